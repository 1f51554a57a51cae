"""The ``qcloop aql`` command."""

import json

from qcloop.sampling.cli import main


def test_text_report(capsys):
    assert main(["aql", "--lot", "5000", "--aql", "2.5", "--level", "II"]) == 0
    out = capsys.readouterr().out
    assert "Code letter L (Table I); plan from Table II-A, row L" in out
    assert "Sample n = 200: accept Ac 10, reject Re 11" in out
    assert "Producer's risk at the AQL: 1.26 %" in out
    assert "LQ10" in out and "AOQL" in out


def test_json_report(capsys):
    assert main(["--lot", "5000", "--aql", "2.5", "--severity", "tightened", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["plan"]["n"], report["plan"]["ac"], report["plan"]["re"]) == (200, 8, 9)
    assert report["model"] == "binomial"
    assert 0 < report["lq10"] < 0.1 and 0 < report["aoql"] < 0.05
    assert [point["p"] for point in report["oc"]][1] == 0.025


def test_double_plan_with_asn(capsys):
    assert main(["aql", "--lot", "5000", "--aql", "2.5", "--scheme", "double"]) == 0
    out = capsys.readouterr().out
    assert "First sample n1 = 125: Ac1 5, Re1 9" in out
    assert "Average sample number at the AQL" in out


def test_nonconformities_use_the_poisson_model(capsys):
    assert main(["aql", "--lot", "50", "--aql", "100", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "poisson"


def test_invalid_input_names_the_allowed_values(capsys):
    assert main(["aql", "--lot", "100", "--aql", "3"]) == 2
    assert "allowed values" in capsys.readouterr().err
    assert main(["aql", "--lot", "100", "--aql", "2.5", "--level", "IV"]) == 2
    assert "S-1, S-2, S-3, S-4, I, II, III" in capsys.readouterr().err


def test_usage_errors_and_help(capsys):
    assert main(["aql"]) == 2
    assert main(["aql", "--help"]) == 0
    assert "--severity" in capsys.readouterr().out
