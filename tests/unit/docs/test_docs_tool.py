"""tools/docs.py on small pages: drift is caught, regeneration fixes it, noise is not drift."""

from __future__ import annotations

import json
from pathlib import Path

from docsgen.pages import process


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text)
    return path


def check(path: Path, results: Path | None = None):  # type: ignore[no-untyped-def]
    return process([path], check=True, results=results or path.parent)


def test_a_page_that_shows_what_the_command_prints_passes(tmp_path: Path) -> None:
    path = page(tmp_path, "<!-- console -->\n```console\n$ echo hello\nhello\n```\n")
    outcome = check(path)
    assert outcome.ok, outcome.errors + outcome.drift
    assert outcome.ran == [f"{path} session 'main'"]


def test_drift_is_reported_with_a_diff_and_regeneration_fixes_it(tmp_path: Path) -> None:
    path = page(tmp_path, "intro\n<!-- console -->\n```console\n$ echo hello\ngoodbye\n```\n")
    outcome = check(path)
    assert not outcome.ok
    assert "-goodbye" in outcome.drift[0] and "+hello" in outcome.drift[0]
    assert path.read_text().count("goodbye") == 1  # a check writes nothing
    assert process([path], check=False, results=tmp_path).ok
    assert path.read_text() == "intro\n<!-- console -->\n```console\n$ echo hello\nhello\n```\n"
    assert check(path).ok


def test_durations_and_table_widths_are_not_drift(tmp_path: Path) -> None:
    shown = "took 1.0 s\n│ a  │ 3 │\n└────┴───┘"
    cmd = "printf 'took 12.75 s\\n│ a │ 3 │\\n└───┴───┘\\n'"
    path = page(tmp_path, f"<!-- console -->\n```console\n$ {cmd}\n{shown}\n```\n")
    assert check(path).ok


def test_a_number_that_changed_is_drift(tmp_path: Path) -> None:
    path = page(
        tmp_path, "<!-- console -->\n```console\n$ echo 'added 622 blocks'\nadded 621 blocks\n```\n"
    )
    assert not check(path).ok


def test_an_elided_run_matches_and_keeps_its_elision(tmp_path: Path) -> None:
    path = page(tmp_path, "<!-- console -->\n```console\n$ seq 1 10\n1\n...\n10\n```\n")
    assert check(path).ok
    path.write_text(path.read_text().replace("\n10\n", "\n11\n"))
    assert not check(path).ok
    process([path], check=False, results=tmp_path)
    assert "\n10\n" in path.read_text() and "..." not in path.read_text()  # shown whole again


def test_ids_are_numbered_and_a_later_command_gets_this_runs_id(tmp_path: Path) -> None:
    new_id = "python3 -c \"import secrets; print('tok-' + secrets.token_hex(4))\""
    text = (
        "<!-- console {ids: {tok: 'tok-[0-9a-f]{8}'}} -->\n```console\n"
        f"$ T=$({new_id}); echo $T\ntok-deadbeef\n"
        '$ test tok-deadbeef = "$T" && echo same\nsame\n```\n'
    )
    path = page(tmp_path, text)
    assert check(path).ok
    broken = text.replace("echo same\nsame", "echo same\ndifferent")
    path.write_text(broken)
    assert not check(path).ok


def test_state_carries_over_between_blocks_of_a_session_but_not_across(tmp_path: Path) -> None:
    text = (
        "<!-- console -->\n```console\n$ export X=1; cd /tmp\n```\n"
        "<!-- console -->\n```console\n$ echo $X $PWD\n1 /tmp\n```\n"
        "<!-- console {session: other} -->\n```console\n$ echo [$X]\n[]\n```\n"
    )
    assert check(page(tmp_path, text)).ok


def test_setup_runs_unseen_and_a_failing_setup_is_an_error(tmp_path: Path) -> None:
    ok = (
        "<!-- console\nsetup: |\n  echo hidden > f.txt\n-->\n```console\n$ cat f.txt\nhidden\n```\n"
    )
    assert check(page(tmp_path, ok)).ok
    bad = "<!-- console {setup: 'false'} -->\n```console\n$ true\n```\n"
    outcome = check(page(tmp_path, bad))
    assert outcome.errors and "setup exited 1" in outcome.errors[0]
    gone = "<!-- console -->\n```console\n$ exit 3\n```\n"
    outcome = check(page(tmp_path, gone))
    assert outcome.errors and "shell exited" in outcome.errors[0]


def test_servers_started_in_a_session_are_stopped_after_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "sleeper.pid"
    text = f"<!-- console -->\n```console\n$ sleep 300 & echo $! > {pidfile}\n```\n"
    assert check(page(tmp_path, text)).ok
    pid = int(pidfile.read_text())
    assert (
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    )


def test_a_shown_port_is_served_on_a_free_one_and_shown_as_written(tmp_path: Path) -> None:
    text = (
        "<!-- console\nports: [8000]\nsetup: |\n"
        "  python3 -m http.server 8000 --bind 127.0.0.1 >/dev/null 2>&1 &\n"
        "  docs_wait_port 8000\n-->\n```console\n"
        "$ python3 -c 'import sys; print(sys.argv[1] != \"8000\")' 8000\nTrue\n"
        "$ curl -s -o /dev/null -w '%{http_code} %{url_effective}\\n' http://127.0.0.1:8000/\n"
        "200 http://127.0.0.1:8000/\n```\n"
    )
    assert check(page(tmp_path, text)).ok


def record(tmp_path: Path, **figures: str) -> Path:
    rec = {
        "name": "demo",
        "benchmark": "bench/demo.py",
        "command": "python bench/demo.py --n 10",
        "data": "10 synthetic rows",
        "recorded": "2026-01-02T03:04:05Z",
        "machine": {
            "cpu": "X",
            "cores": 2,
            "memory_gib": 24.0,
            "python": "3.11",
            "system": "Linux",
        },
        "load": {"start": [1.0, 1.0, 1.0], "end": [2.0, 1.0, 1.0]},
        "output": "n = 10\nratio 3.0x\n",
        "figures": {k: {"value": 1.0, "text": v, "about": f"the {k}"} for k, v in figures.items()},
        "tables": {"t": "| a |\n|---|\n| 1 |"},
    }
    results = tmp_path / "results"
    results.mkdir(exist_ok=True)
    (results / "demo.json").write_text(json.dumps(rec))
    return results


def test_figures_are_filled_from_their_record(tmp_path: Path) -> None:
    results = record(tmp_path, speed="3.0×")
    path = page(tmp_path, "It is <!--fig demo:speed-->9×<!--/fig--> faster.\n")
    outcome = check(path, results)
    assert not outcome.ok and "page.md" in outcome.drift[0]
    assert process([path], check=False, results=results).ok
    assert path.read_text() == "It is <!--fig demo:speed-->3.0×<!--/fig--> faster.\n"


def test_a_figure_with_no_record_or_key_is_an_error(tmp_path: Path) -> None:
    results = record(tmp_path, speed="3.0×")
    outcome = check(page(tmp_path, "<!--fig demo:nope-->1×<!--/fig-->\n"), results)
    assert "recorded no figure 'nope'" in outcome.errors[0]
    outcome = check(page(tmp_path, "<!--fig gone:speed-->1×<!--/fig-->\n"), results)
    assert "no bench/results/gone.json" in outcome.errors[0]


def test_recorded_output_tables_and_sources(tmp_path: Path) -> None:
    results = record(tmp_path, speed="3.0×")
    text = (
        "Fast: <!--fig demo:speed-->3.0×<!--/fig-->.\n"
        "<!-- console {bench: demo} -->\n```console\n$ old\n```\n"
        "<!-- figures demo:t -->\n<!-- /figures -->\n"
        "<!-- figures-sources -->\n<!-- /figures-sources -->\n"
    )
    path = page(tmp_path, text)
    assert process([path], check=False, results=results).ok
    out = path.read_text()
    assert "$ python bench/demo.py --n 10\nn = 10\nratio 3.0x\n```" in out
    assert "<!-- figures demo:t -->\n| a |\n|---|\n| 1 |\n<!-- /figures -->" in out
    assert (
        "| `python bench/demo.py --n 10` | 10 synthetic rows | 1.0 -> 2.0 | 2026-01-02 "
        "| **3.0×**: the speed (page.md)<br>its output (page.md)<br>its table 't' (page.md) |"
    ) in out
    assert "Machine: X, 2 cores, 24 GiB" in out
    assert check(path, results).ok


def test_a_measurement_typed_by_hand_has_no_source(tmp_path: Path) -> None:
    path = page(
        tmp_path,
        "Our parser is 12x faster and answers in 3 ms (`9x` in code is fine);\n"
        "its recall is 0.995.\n",
    )
    errors = check(path).errors
    assert any("ratio '12x' has no source" in e for e in errors)
    assert any("time '3 ms' has no source" in e for e in errors)
    assert any("decimal '0.995' has no source" in e for e in errors)
    assert not any("9x" in e for e in errors)


def test_hand_written_output_is_an_error_but_commands_alone_are_not(tmp_path: Path) -> None:
    path = page(
        tmp_path, "```console\n$ fundtrail cluster   # comment\n```\n```console\n$ x\nout\n```\n"
    )
    errors = check(path).errors
    assert (
        len(errors) == 1
        and "page.md:4: console block shows output but is not generated" in errors[0]
    )
