"""The README's examples run as written."""
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert "Sun-Earth-probe angle" in capsys.readouterr().out


def test_toml_example_is_a_valid_mission_file(tmp_path):
    from l4station import config

    block = re.search(r"```toml\n(.*?)```", README.read_text(), re.S).group(1)
    path = tmp_path / "example.toml"
    path.write_text(block)
    assert config.load(path).mission.target == "L5"
