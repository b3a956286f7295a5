"""Resolve a Reference to the resource it names: contained (``#id``) or in the same Bundle.

Rules (FHIR R4 Bundle §"Resolving references in Bundles", Resource §contained):

* ``#id`` names a resource contained in the *outermost* resource holding the reference; ``#`` the
  container itself. Missing is an error.
* ``urn:uuid:``/``urn:oid:`` names an entry by ``fullUrl``. It cannot live anywhere else, so missing is
  an error.
* ``Type/id`` is made absolute against the RESTful base of the holder's ``fullUrl`` and matched to an
  entry's ``fullUrl``; when the holder has no RESTful base, one entry whose ``resourceType``/``id``
  are exactly ``Type``/``id`` matches (two are an error: we never pick one).
* An absolute or relative URL found nowhere in the request is *external*: it points at a server, and
  the caller decides whether it can do without the content (see ``mapping``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from adapters.fhir.elements import JsonObject, obj, objs, text
from hub.errors import Problem

_RESTFUL = re.compile(r"^(?P<base>.*/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")
_HISTORY = re.compile(r"/_history/[^/]+$")


@dataclass(frozen=True)
class BundleEntry:
    """One Bundle entry with a resource: its position, fullUrl and resource."""

    index: int
    full_url: str | None
    resource: JsonObject


@dataclass(frozen=True)
class Scope:
    """Where a reference sits: the outermost resource holding it, its FHIRPath and its fullUrl."""

    container: JsonObject
    at: str
    full_url: str | None = None


@dataclass(frozen=True)
class Target:
    """A resolved reference: the resource, its FHIRPath, and the scope its own references resolve in."""

    resource: JsonObject
    at: str
    scope: Scope


@dataclass(frozen=True)
class Resolution:
    """What a Reference led to: a resource, an external pointer, or only a logical identifier/display."""

    target: Target | None = None
    external: str | None = None
    logical: JsonObject | None = None


@dataclass(frozen=True)
class BundleContext:
    """The entries of the Bundle a resource came in, plus the origin used for ids without a system."""

    entries: tuple[BundleEntry, ...] = ()
    #: who sent it: MessageHeader.source.endpoint, or the RESTful base of the entries' fullUrls
    origin: str | None = None
    _by_url: dict[str, BundleEntry] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, bundle: JsonObject, *, origin: str | None = None) -> BundleContext:
        """Index a Bundle's entries by fullUrl."""
        entries = []
        raw = bundle.get("entry")
        for index, entry in enumerate(raw if isinstance(raw, list) else []):
            resource = obj(entry, "resource")
            if resource is not None:
                entries.append(BundleEntry(index, text(entry, "fullUrl"), resource))
        by_url = {_HISTORY.sub("", e.full_url): e for e in entries if e.full_url}
        return cls(tuple(entries), origin, by_url)

    def scope_of(self, entry: BundleEntry) -> Scope:
        """The scope for references held by an entry's resource."""
        return Scope(entry.resource, f"Bundle.entry[{entry.index}].resource", entry.full_url)

    def target_of(self, entry: BundleEntry) -> Target:
        """An entry as a resolved target."""
        scope = self.scope_of(entry)
        return Target(entry.resource, scope.at, scope)

    def by_url(self, url: str) -> BundleEntry | None:
        """The entry whose fullUrl is ``url`` (version-independent)."""
        return self._by_url.get(_HISTORY.sub("", url))

    def by_type_id(self, resource_type: str, resource_id: str) -> list[BundleEntry]:
        """Entries whose resource has this type and id."""
        return [
            e
            for e in self.entries
            if e.resource.get("resourceType") == resource_type and e.resource.get("id") == resource_id
        ]


def _contained(reference: str, scope: Scope, where: str, problems: list[Problem]) -> Resolution:
    wanted = reference[1:]
    if not wanted:
        return Resolution(Target(scope.container, scope.at, scope))
    for index, resource in enumerate(objs(scope.container, "contained")):
        if resource.get("id") == wanted:
            return Resolution(Target(resource, f"{scope.at}.contained[{index}]", scope))
    problems.append(Problem("not-found", f"'{reference}' names no contained resource", where, "error"))
    return Resolution()


def _in_bundle(reference: str, scope: Scope, context: BundleContext, where: str, problems: list[Problem]) -> Resolution:
    restful = _RESTFUL.match(reference)
    holder = _RESTFUL.match(scope.full_url or "")
    if "://" in reference or reference.startswith("urn:"):
        entry = context.by_url(reference)
    elif holder is not None and holder.group("base"):
        entry = context.by_url(holder.group("base") + reference)
    elif restful is not None:
        matches = context.by_type_id(restful.group("type"), restful.group("id"))
        if len(matches) > 1:
            problems.append(
                Problem("multiple-matches", f"'{reference}' matches {len(matches)} entries", where, "error")
            )
            return Resolution()
        entry = matches[0] if matches else None
    else:
        entry = None
    if entry is not None:
        return Resolution(context.target_of(entry))
    return _outside(reference, where, problems)


def _outside(reference: str, where: str, problems: list[Problem]) -> Resolution:
    if reference.startswith("urn:"):
        problems.append(Problem("not-found", f"'{reference}' is not the fullUrl of any Bundle entry", where, "error"))
        return Resolution()
    return Resolution(external=reference)


def resolve(
    element: object, *, scope: Scope, context: BundleContext | None, where: str, problems: list[Problem]
) -> Resolution:
    """Follow a Reference element found at ``where``; unresolvable internal references add a problem."""
    reference = text(element, "reference")
    if reference is None:
        return Resolution(logical=obj(element, "identifier"))
    at = f"{where}.reference"
    if reference.startswith("#"):
        return _contained(reference, scope, at, problems)
    if context is None:
        return _outside(reference, at, problems)
    return _in_bundle(reference, scope, context, at, problems)


def restful_base(full_url: str | None) -> str | None:
    """The server base of a RESTful fullUrl (``http://x/fhir/Patient/1`` -> ``http://x/fhir``), else None."""
    found = _RESTFUL.match(full_url or "")
    return found.group("base").rstrip("/") if found and found.group("base") else None
