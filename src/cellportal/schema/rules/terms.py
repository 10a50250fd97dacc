"""Checking one ontology-term value against a :class:`TermRule` (the schema's "curie constraints").

The order of checks follows the reference so the same value gets the same verdict: exceptions
('unknown', 'na'), then 'na'-only fields, forbidden terms, membership of an allowed ontology (and
obsolescence), forbidden ancestors, then the allow-list (exact terms or descendants of listed ancestors).
Multi-term values (``" || "``) are split and each part checked, then order and duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

from cellportal.schema.ontology import OntologyIndex

MULTI_TERM_DELIMITER = " || "


@dataclass(frozen=True)
class TermRule:
    ontologies: tuple[str, ...]  # as named in messages; "NA" alone means only the exceptions are accepted
    allowed_terms: frozenset[str] = frozenset()
    allowed_ancestors: tuple[str, ...] = ()
    allow_any_of: tuple[str, ...] = ()  # ontologies whose every valid term is allowed (UniProt)
    has_allow_list: bool = True
    forbidden_terms: frozenset[str] = frozenset()
    forbidden_ancestors: tuple[str, ...] = ()
    exceptions: frozenset[str] = frozenset()
    multi_term: bool = False
    multi_term_ontologies: tuple[str, ...] = ()  # when several terms are given, each must be from these
    stripped_prefixes: tuple[str, ...] = ()
    explanation: str = ""  # appended to messages: what the field accepts here


@dataclass(frozen=True)
class TermProblem:
    code: str
    message: str
    term: str  # the offending value (or part of a multi-term value)


def check_term_value(value: object, column: str, rule: TermRule, index: OntologyIndex) -> list[TermProblem]:
    """All problems of one (possibly multi-term) value of ``column`` under ``rule``."""
    if isinstance(value, str) and value in rule.exceptions:
        return []
    if rule.ontologies == ("NA",):
        return [
            TermProblem(
                "ontology_term.must_be_na", f"'{value}' in '{column}' is not a valid value of '{column}'.", str(value)
            )
        ]
    if not isinstance(value, str):
        message = f"'{value}' in '{column}' is not a valid ontology term value, it must be a string."
        return [TermProblem("ontology_term.not_string", message, str(value))]
    if not rule.multi_term:
        return _check_single(value, column, rule, index)
    parts = value.split(MULTI_TERM_DELIMITER)
    problems: list[TermProblem] = []
    for part in parts:
        problems.extend(_check_single(part, column, rule, index))
        if len(parts) > 1 and rule.multi_term_ontologies:
            only_ontologies = TermRule(rule.multi_term_ontologies, has_allow_list=False)
            problems.extend(_check_single(part, column, only_ontologies, index))
    if len(parts) > 1 and any(parts[i].strip() > parts[i + 1].strip() for i in range(len(parts) - 1)):
        problems.append(
            TermProblem("ontology_term.unsorted", f"'{value}' in '{column}' is not in ascending lexical order.", value)
        )
    if len(set(parts)) != len(parts):
        problems.append(TermProblem("ontology_term.duplicated", f"'{value}' in '{column}' contains duplicates.", value))
    return problems


def _strip_prefix(term: str, prefixes: tuple[str, ...]) -> str:
    for prefix in prefixes:
        if term.startswith(prefix):
            return term[len(prefix) :]
    return term


def _check_single(term: str, column: str, rule: TermRule, index: OntologyIndex) -> list[TermProblem]:
    lookup = _strip_prefix(term, rule.stripped_prefixes)
    if lookup in rule.forbidden_terms:
        return [TermProblem("ontology_term.not_allowed", f"'{term}' in '{column}' is not allowed.", term)]
    found = index.term(lookup)
    in_allowed_ontology = found is not None and found.ontology in rule.ontologies
    if not in_allowed_ontology:
        message = f"'{term}' in '{column}' is not a valid ontology term id of '{', '.join(rule.ontologies)}'."
        return [TermProblem("ontology_term.invalid", message, term)]
    assert found is not None
    if found.deprecated:
        message = f"'{term}' in '{column}' is a deprecated term id of '{found.ontology}'."
        return [TermProblem("ontology_term.deprecated", message, term)]
    for ancestor in rule.forbidden_ancestors:
        if index.is_descendant_of(lookup, ancestor):
            message = f"'{term}' in '{column}' is not allowed. Descendant terms of '{ancestor}' are not allowed."
            return [TermProblem("ontology_term.not_allowed", message, term)]
    if not rule.has_allow_list:
        return []
    if lookup in rule.allowed_terms or found.ontology in rule.allow_any_of:
        return []
    if any(index.is_descendant_of(lookup, ancestor) for ancestor in rule.allowed_ancestors):
        return []
    return [TermProblem("ontology_term.not_allowed", f"'{term}' in '{column}' is not an allowed term id.", term)]
