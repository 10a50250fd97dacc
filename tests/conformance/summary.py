"""Print where our validator and the reference agree, case by case, from the conformance caches.

    CELLPORTAL_REFERENCE_PYTHON=.venv-ref/bin/python .venv/bin/python -m tests.conformance.summary

Uses the same corpus and reference cache as the tests (building or filling them if needed), runs our
validator on every file, and prints one line per case that disagrees plus counts per rule group.
"""

from __future__ import annotations

import sys
from collections import Counter

from tests.conformance.conftest import FIXTURES, FIXTURES_DIR, corpus_fingerprint, expected_valid
from tests.conformance.corpus import CASES, build_corpus
from tests.conformance.reference import CACHE, reference_python, run_reference


def main() -> int:
    from cellportal.schema import validate
    from cellportal.schema.codes import match_reference_message

    python = reference_python()
    if python is None:
        print("CELLPORTAL_REFERENCE_PYTHON is not set to an existing interpreter", file=sys.stderr)
        return 2
    directory = CACHE / "corpus" / corpus_fingerprint()
    if not (directory / ".complete").exists():
        build_corpus(directory, processes=2)
        (directory / ".complete").write_text("ok\n")
    paths = {item.name: directory / f"{item.name}.h5ad" for item in CASES}
    paths.update({name: FIXTURES_DIR / file for name, file in FIXTURES.items() if (FIXTURES_DIR / file).exists()})
    results = run_reference(python, {path: expected_valid(name) for name, path in paths.items()})
    groups = {item.name: item.group for item in CASES}
    totals: Counter[tuple[str, str]] = Counter()
    for name, path in paths.items():
        group = groups.get(name, "fixture")
        theirs, ours = results[path], validate(path)
        our_codes = {found.code for found in ours.errors}
        unmatched = [
            message
            for message in theirs.errors
            if not message.startswith("Unexpected validation error")
            and not set(match_reference_message(message)) & our_codes
        ]
        verdict = "agree" if ours.valid == theirs.valid else "DISAGREE"
        totals[(group, verdict)] += 1
        totals[(group, "unmatched" if unmatched else "matched")] += 1
        if verdict != "agree" or unmatched:
            print(f"{name} [{group}]: reference valid={theirs.valid}, ours valid={ours.valid}")
            for message in unmatched:
                print(f"    unmatched: {message[:200]}")
    print()
    for group in sorted({g for g, _ in totals}):
        print(f"{group:<18} verdicts agree {totals[(group, 'agree')]:>3}, disagree {totals[(group, 'DISAGREE')]:>2}; "
              f"errors all matched {totals[(group, 'matched')]:>3}, not {totals[(group, 'unmatched')]:>2}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
