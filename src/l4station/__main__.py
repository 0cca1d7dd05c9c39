from l4station.cli import main

main()
