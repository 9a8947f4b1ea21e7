"""fixtures/ holds whole projects of the corpus (with tests of their own): not ours to collect."""

collect_ignore_glob = ["fixtures/*"]
