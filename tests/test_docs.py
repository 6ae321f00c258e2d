"""The catalog's pages and the README's generated sections are what the code says today."""

from neurobench import docs


def test_generated_docs_are_current():
    stale = docs.check()
    assert stale == [], f"regenerate with `python -m neurobench docs --write`: {stale}"


def test_every_task_page_names_its_paper_scores_and_departures():
    page = docs.task_page("DelayMatchCategory")
    assert "## Scores" in page
    assert "Freedman" in page
    assert "dim_ring" in page  # its departure from NeuroGym is listed
    assert docs.task_page("yang19.go").count("| chance |") == 1
