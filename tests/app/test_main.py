"""The ``ecgcrnn`` command: its commands, its version, and the module forms that stay beside it."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPOSITORY

import ecgcrnn
from ecgcrnn.app.main import COMMANDS, main


def run_python(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *map(str, arguments)], cwd=REPOSITORY, capture_output=True, text=True, timeout=300
    )


def test_help_lists_the_four_commands_one_line_each(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert set(COMMANDS) == {"show", "measure", "demo", "synthetic"}
    for name, (_, line) in COMMANDS.items():
        assert [text.split() for text in lines if text.split()[:1] == [name]] == [[name, *line.split()]]


def test_help_imports_neither_tensorflow_nor_the_commands_modules():
    result = run_python("-X", "importtime", "-m", "ecgcrnn", "--help")
    assert result.returncode == 0 and "measure" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert not {name for name in imported if name.split(".")[0] in ("tensorflow", "keras")}
    assert not {module for module, _ in COMMANDS.values()} & imported
    assert "ecgcrnn.pipeline" not in imported


def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"ecgcrnn {ecgcrnn.__version__}"


@pytest.mark.parametrize("form", ["script", "module"])
def test_the_console_script_and_python_m_ecgcrnn_run_the_command(form):
    script = Path(sys.executable).with_name("ecgcrnn")
    command = [script] if form == "script" else [sys.executable, "-m", "ecgcrnn"]
    assert form == "module" or script.is_file(), "ecgcrnn is not installed: pip install -e ."
    result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == f"ecgcrnn {ecgcrnn.__version__}"


def test_a_missing_or_unknown_command_is_a_usage_error(capsys):
    for argv in ([], ["measures"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2
    assert "invalid choice: 'measures'" in capsys.readouterr().err


def test_synthetic_writes_records_with_its_own_arguments(tmp_path):
    assert main(["synthetic", str(tmp_path / "out"), "--records", "2", "--seed", "3", "-q"]) == 0
    assert sorted(path.name for path in (tmp_path / "out").glob("*.hea")) == ["S00001.hea", "S00002.hea"]


def test_show_gets_its_own_help(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["show", "--help"])
    assert stopped.value.code == 0
    assert "RECORD" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["show", "measure", "demo", "synthetic"])
def test_each_commands_usage_names_it_as_the_user_typed_it(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert capsys.readouterr().out.startswith(f"usage: ecgcrnn {command} ")


def test_demo_checks_its_own_arguments(capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--workdir", str(tmp_path), "--epochs", "0"])
    assert stopped.value.code == 2
    assert "--epochs" in capsys.readouterr().err


@pytest.mark.parametrize(
    "module", ["ecgcrnn.app.show", "ecgcrnn.app.demo", "ecgcrnn.synthetic", "ecgcrnn.app.measure"]
)
def test_the_modules_still_run_as_python_m(module):
    result = run_python("-m", module, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: ")
