"""What the station sees: solar-wind model, forecasts, CMEs, connectivity."""
