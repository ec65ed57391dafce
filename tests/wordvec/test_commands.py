"""Issue 14 for wordvec: -o FILE in the format its suffix names, --out run folders with
--exist-ok, run folders as --vectors, --threads honoured, choices and help in the signatures."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from dltool_wordvec import similarity, vectors


@pytest.mark.parametrize(
    ("command", "suffix", "magic"),
    [
        (("plot", "man", "woman", "king"), ".svg", b"<svg"),
        (("plot", "man", "woman", "king"), ".pdf", b"%PDF"),
        (("plot", "man", "woman", "king"), ".jpg", b"\xff\xd8\xff"),
        (("bias", "nurse", "engineer"), ".svg", b"<svg"),
        (("bias", "nurse", "engineer"), ".PNG", b"\x89PNG"),
    ],
)
def test_plots_written_in_the_suffix_format(cli, glove_file, tmp_path, command, suffix, magic):
    dest = tmp_path / f"w{suffix}"
    res = cli("wordvec", *command, "-V", glove_file, "-o", dest)
    assert res.exit_code == 0, res.output
    assert magic in dest.read_bytes()[:400]
    assert not (tmp_path / "runs").exists()  # one file asked for, no run folder


@pytest.mark.parametrize("command", [("plot", "man", "woman"), ("bias", "nurse")])
def test_unknown_plot_suffix_refused_up_front(cli, fails, glove_file, tmp_path, command):
    res = fails(cli("wordvec", *command, "-V", glove_file, "-o", tmp_path / "w.gif"), "'.gif'")
    assert ".svg" in res.stderr and "vectors:" not in res.stderr
    assert not list(tmp_path.glob("w*"))


def test_plot_run_folders_never_replaced_silently(cli, fails, glove_file, tmp_path):
    res = cli("wordvec", "plot", "man", "woman", "-V", glove_file)
    assert res.exit_code == 0, res.output
    run = tmp_path / "runs" / "wordvec" / "plot" / "1"
    assert (run / "words.png").is_file()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["words"] == ["man", "woman"] and config["vectors"] == str(glove_file)
    out = tmp_path / "mine"
    assert cli("wordvec", "plot", "man", "woman", "-V", glove_file, "--out", out).exit_code == 0
    assert (out / "words.png").is_file()
    fails(cli("wordvec", "plot", "man", "king", "-V", glove_file, "--out", out), "holds a run")
    res = cli("wordvec", "plot", "man", "king", "-V", glove_file, "--out", out, "--exist-ok")
    assert res.exit_code == 0, res.output
    res = cli("wordvec", "plot", "man", "king", "-V", glove_file, "--out", out, "-o", "x.png")
    fails(res, "not both")


def test_debias_run_folder_then_vectors_from_the_run(cli, fails, glove_file, tmp_path):
    res = cli("wordvec", "debias", "-V", glove_file, "--json")
    assert res.exit_code == 0, res.output
    run = tmp_path / "runs" / "wordvec" / "debias" / "1"
    assert json.loads(res.stdout)["output"] == str(run / "vectors.txt")
    assert yaml.safe_load((run / "config.yaml").read_text())["output"] == "vectors.txt"
    res = cli("wordvec", "similarity", "nurse", "engineer", "-V", run, "--json")
    assert res.exit_code == 0, res.output
    assert str(run / "vectors.txt") in res.stderr.replace("\n", "")
    fails(cli("wordvec", "debias", "-V", glove_file, "-o", tmp_path / "d.glove"), "suffix")
    res = cli("wordvec", "debias", "-V", glove_file, "-o", tmp_path / "d.bin")
    assert res.exit_code == 0 and vectors.detect_format(tmp_path / "d.bin") == "word2vec-bin"
    fails(cli("wordvec", "similar", "nurse", "-V", tmp_path), "is a directory")


def test_train_run_folder_is_a_vectors_source(cli, fails, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("alpha beta gamma delta omega sigma\n" * 40)
    args = ("--min-count", "1", "--dim", "6", "--epochs", "1", "--workers", "1")
    res = cli("wordvec", "train", corpus, *args, "--json")
    assert res.exit_code == 0, res.output
    run = tmp_path / "runs" / "wordvec" / "train" / "1"
    assert vectors.detect_format(run / "vectors.bin") == "word2vec-bin"
    res = cli("wordvec", "similar", "alpha", "-V", run, "-n", "2", "--json")
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["similar"]) == 2
    by_number = cli("wordvec", "similar", "alpha", "-V", "1", "-n", "2", "--json")  # run number
    assert by_number.exit_code == 0, by_number.output
    assert json.loads(by_number.stdout) == json.loads(res.stdout)
    fails(cli("wordvec", "similar", "alpha", "-V", "9"), "run 9 does not exist")
    res = cli("wordvec", "train", corpus, *args, "--out", run)
    assert res.exit_code == 1 and "holds a run" in res.stderr
    assert cli("wordvec", "train", corpus, *args, "--out", run, "--exist-ok").exit_code == 0


@pytest.mark.parametrize(("given", "width"), [((), 1), (("--threads", "3"), 3)])
def test_similar_honours_threads(cli, glove_file, monkeypatch, given, width):
    seen = []
    real = similarity.thread_limit

    def spy(n):
        seen.append(n)
        return real(n)

    monkeypatch.setattr(similarity, "thread_limit", spy)
    res = cli(*given, "wordvec", "similar", "king", "-V", glove_file)
    assert res.exit_code == 0, res.output
    assert seen == [width]


def test_quiet_debias_prints_the_summary_only(cli, glove_file, tmp_path):
    res = cli("-q", "wordvec", "debias", "-V", glove_file, "-o", tmp_path / "d.txt")
    assert res.exit_code == 0, res.output
    assert "Before → after" in res.stdout and "Professions" not in res.stdout


def _commands(app):
    """Yield (name, click command) of every wordvec command."""
    group = typer.main.get_command(app).get_command(None, "wordvec")
    for name in group.list_commands(None):
        yield name, group.get_command(None, name)


def test_every_option_has_help_and_choices_complete(app):
    for name, command in _commands(app):
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert param.help, (name, param.name)
            if param.name in ("method", "format", "out_format"):
                assert getattr(param.type, "choices", None), (name, param.name)
