"""A store reached over the SPARQL 1.1 Protocol, Update and the Graph Store Protocol.

This is the only code that talks to the database at run time; it speaks the standards, so it
works against the managed Oxigraph server and against any SPARQL 1.1 server.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace as replace_dialect
from typing import IO, Any
from urllib.parse import urlencode

import requests
import requests.auth
from rdflib import Graph

from kb.errors import QueryRejected, QueryTimeout, StoreError, StoreUnavailable
from kb.namespaces import XSD
from kb.store import probe, transaction
from kb.store.answers import StoreResponse, converted, ntriples_lines
from kb.store.curl import CurlPool, CurlReply
from kb.store.dialect import SPARQL11, Dialect
from kb.store.journal import Journal
from kb.store.scope import ScopeWatch
from kb.store.transaction import Transaction
from kb.store.version import Clock, MemoryClock, StoreClock

_DEFAULT_GRAPH = "default"
#: An N-Triples line whose object is an integral xsd:decimal.
_INTEGRAL_DECIMAL = re.compile(r'"([+-]?[0-9]+)"\^\^<(' + re.escape(str(XSD.decimal)) + r")> \.$")


def _curl_pool(auth: requests.auth.AuthBase | tuple[str, str] | None) -> CurlPool:
    """The query pool, with the credentials of ``auth`` (basic, digest, or a basic pair)."""
    if isinstance(auth, tuple):
        return CurlPool(user=auth[0], password=auth[1])
    if isinstance(auth, requests.auth.HTTPBasicAuth | requests.auth.HTTPDigestAuth):
        user, password = (
            x.decode("utf-8") if isinstance(x, bytes) else x for x in (auth.username, auth.password)
        )
        return CurlPool(
            user=user,
            password=password,
            digest=isinstance(auth, requests.auth.HTTPDigestAuth),
        )
    if auth is not None:
        raise StoreError(f"unsupported authentication for queries: {type(auth).__name__}")
    return CurlPool()


_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def iri(value: str) -> str:
    """``<value>`` for use in a SPARQL request; refuses what could break out of the brackets."""
    if not value or _IRI_FORBIDDEN.search(value) or ":" not in value:
        raise QueryRejected(f"not an absolute IRI: {value[:200]!r}")
    return f"<{value}>"


_DATASET_CLAUSE = re.compile(r"\bFROM\b", re.IGNORECASE)


def _names_dataset(sparql: str) -> bool:
    """Whether the query has FROM / FROM NAMED (then the server must not be told otherwise)."""
    return bool(_DATASET_CLAUSE.search(sparql))


class SparqlHttpStore:
    """SPARQL 1.1 Query / Update / Graph Store Protocol client.

    ``dialect`` (:mod:`kb.store.dialect`) says how the server departs from SPARQL 1.1: how
    the union default graph is asked for, the time-limit parameter, which formats to ask for,
    whether updates are transactional, request sizes and blank nodes. Without a union
    parameter, ``graph_scope`` (an IRI prefix, ``{base}graph/``) makes the union default
    graph the merge of the graphs under it, passed as ``default-graph-uri`` — so a server's
    own system graphs (Virtuoso has several) stay out of every answer. Where the dialect keeps
    the data version in the store (:class:`~kb.store.version.StoreClock`) every front end
    shares it; else ``clock`` (default: in memory) holds it.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        dialect: Dialect = SPARQL11,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        timeout: float = 30.0,
        clock: Clock | None = None,
        graph_scope: str | None = None,
        fresh_for: float = 0.0,
    ) -> None:
        self.dialect = dialect
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self._http = requests.Session()
        self._http.auth = auth
        self._http.trust_env = False  # never route loopback traffic through a proxy
        # Uncompressed: asked for gzip, Virtuoso compresses and closes the connection after
        # every answer (measured: a new TCP connection per request, ~1 ms each on loopback).
        self._http.headers["Accept-Encoding"] = "identity"
        self.graph_scope = graph_scope
        self._scoped: tuple[str, list[str]] | None = None  # (data version, graphs)
        self._queries = _curl_pool(auth)
        #: Whether one update request is one transaction (probed by check_capabilities);
        #: if not, commits go through :attr:`journal`.
        self.atomic_updates = dialect.atomic_updates
        self.journal: Journal | None = None
        #: Whether ``"5"^^xsd:decimal`` comes back as an xsd:decimal (probed; Virtuoso 7
        #: returns an xsd:integer, but keeps ``"5.0"^^xsd:decimal`` a decimal).
        self.integral_decimals_kept = True
        self.probe_updates = dialect.probes_updates
        self._probed: list[str] | None = None
        self.clock: Clock = (
            StoreClock(self)
            if dialect.version_in_store and update_url
            else clock
            if clock is not None
            else MemoryClock()
        )
        #: The graphs in scope as recently read in the background (``fresh_for`` seconds at
        #: most; see :mod:`kb.store.scope`); only where the scope is a list of graphs.
        self.scope_watch = ScopeWatch(
            self._scope_view,
            fresh_for if graph_scope and not dialect.union_default_graph_param else 0,
        )
        #: Query requests sent to the store (versions and graph lists included).
        self.queries_sent = 0

    @property
    def canonical_formats(self) -> bool:
        """Whether answers come only in SPARQL JSON / N-Triples (callers convert locally)."""
        return self.dialect.canonical_formats

    @property
    def data_version(self) -> str:
        """Changes whenever data is written through this code (see :mod:`kb.store.version`)."""
        return self.clock.current()

    def recent_data_version(self) -> str | None:
        """The data version of the background view of the graphs in scope, where it is young
        enough to key a query's answer on (:mod:`kb.store.scope`), without a request; else
        None (then read :attr:`data_version`)."""
        return self.scope_watch.version()

    # --- queries -----------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        accept: str = "application/sparql-results+json",
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        union_default_graph: bool = True,
        timeout: float | None = None,
        data_version: str | None = None,
    ) -> StoreResponse:
        """Run a read-only query; the caller reads the result stream. ``data_version``: the
        version the caller has just read (so the graphs in scope need no second read)."""
        params: list[tuple[str, str]] = [("default-graph-uri", g) for g in default_graph_uris]
        params += [("named-graph-uri", g) for g in named_graph_uris]
        # A dataset the request or the query names wins: Oxigraph refuses the union parameter
        # beside named-graph-uri, and with it ignores the query's own FROM.
        named = default_graph_uris or named_graph_uris or _names_dataset(sparql)
        limit = timeout if timeout is not None else self.timeout
        if self.dialect.timeout_param:
            params.append((self.dialect.timeout_param, str(int(limit * 1000))))

        scope: list[str] = []
        if union_default_graph and not named:
            if self.dialect.union_default_graph_param:
                params.append((self.dialect.union_default_graph_param, ""))
            elif self.graph_scope:
                # the background view, unless the caller has just read the version itself
                recent = self.scope_watch.graphs() if data_version is None else None
                scope = recent if recent is not None else self._scope_graphs(data_version)
        # the named graphs too: without them Virtuoso lets GRAPH ?g see its own graphs
        params += [("default-graph-uri", g) for g in scope]
        params += [("named-graph-uri", g) for g in scope]
        # The form-encoded POST of the SPARQL 1.1 Protocol: every server takes it (Virtuoso 7.2
        # never answers a direct `application/sparql-query` POST; measured).
        response = self._post_query([("query", sparql), *params], accept, limit)
        if response.status_code == 400:
            text = response.text.strip()
            response.close()
            raise QueryRejected(f"syntax error: {text[:500]}")
        if response.headers.get("X-SQL-State") == "S1TAT" or (
            response.status_code >= 500 and "S1T00" in response.text[:200]
        ):
            # Virtuoso's "anytime" answer: partial results cut at the time limit (or the
            # transaction timed out). A partial answer is never passed on as a complete one.
            response.close()
            raise QueryTimeout("the query was stopped by the store's time limit")
        self._raise_for(response, "query")
        return StoreResponse(response.headers.get("Content-Type", accept), response)

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Any]]:
        """SELECT results as a list of {variable: binding-dict} (SPARQL JSON bindings)."""
        body = json.loads(self.query(sparql, **kwargs).read())
        return list(body["results"]["bindings"])

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        return bool(json.loads(self.query(sparql, **kwargs).read())["boolean"])

    def construct(self, sparql: str, **kwargs: Any) -> Graph:
        result = self.query(sparql, accept="application/n-triples", **kwargs)
        data = converted(result.read(), result.content_type, "application/n-triples")
        return Graph().parse(data=data.decode("utf-8"), format="nt")

    # --- updates -----------------------------------------------------------------------

    @property
    def journaled(self) -> bool:
        """Whether a commit of several requests goes through the rollback journal."""
        return not self.atomic_updates and self.journal is not None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """The block in which a writer reads, validates and commits: the server's update
        behaviour probed (once), and where commits are journaled the writer lease held
        across hosts (not re-entrant: the caller nests)."""
        self.prepare_writes()
        journal = self.journal if self.journaled else None
        with journal.held() if journal is not None else contextlib.nullcontext():
            yield

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The writer lease across hosts for the block, where the store keeps one (a remote
        store's journal), whether or not its commits need the journal; else nothing."""
        with self.journal.held() if self.journal is not None else contextlib.nullcontext():
            yield

    def commit(self, tx: Transaction) -> None:
        """Apply ``tx`` all or nothing.

        Where one update request is one transaction (Oxigraph; a remote server the probe
        found atomic) the whole transaction is one request. Elsewhere a transaction that
        fits one operation is sent as it is (one operation is applied whole), and a larger
        one goes through the rollback journal (:mod:`kb.store.journal`): its undo is stored
        first, then its requests run, and if this writer dies midway the next writer to take
        the lease undoes what it did. A journaled commit must run inside :meth:`writing`
        (the lease is taken here when the caller has not)."""
        self.prepare_writes()
        redo = transaction.redo(tx, self.dialect, self.written)
        if not redo:
            return
        if self.atomic_updates or len(redo) == 1 or self.journal is None:
            self.update(" ;\n".join(redo))
            return
        undo = transaction.undo(tx, self.dialect, self.written)
        if undo is None:
            raise StoreError("a commit of several requests needs each graph's earlier content")
        if self.journal.holding:
            self.journal.run(redo, undo)
        else:
            with self.journal.held():
                self.journal.run(redo, undo)

    def append_batches(self, triples: Iterable[tuple[str | None, str]], batch: int) -> int:
        """Append (graph, N-Triples line) pairs in commits of at most ``batch`` triples (fewer
        where the server takes smaller requests, and a new one where the graph changes), so
        each commit is one operation the store applies whole: the bulk path of ``kb load``
        through a server. The number of triples written."""
        size = min(batch, self.dialect.max_request_triples or batch)
        graph: str | None = None
        pending: list[str] = []
        total = 0
        for name, line in triples:
            if pending and (name != graph or len(pending) == size):
                self.commit(Transaction().append(graph, pending))
                total += len(pending)
                pending = []
            graph = name
            pending.append(line)
        if pending:
            self.commit(Transaction().append(graph, pending))
            total += len(pending)
        return total

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update request (one transaction where :attr:`atomic_updates`)."""
        if not self.update_url:
            raise StoreError("this store has no update URL configured")
        if isinstance(self.clock, StoreClock):
            # data and version change in one request, so in one transaction
            sparql = sparql.rstrip().rstrip(";") + " ;\n" + self.clock.statement()
        try:
            response = self._post_update(sparql)
        finally:
            try:
                if not isinstance(self.clock, StoreClock):
                    self.clock.bump()  # even on failure: the outcome may be unknown (a timeout)
            finally:
                self.scope_watch.wrote()
        if response.status_code == 400:
            raise QueryRejected(f"update refused by the store: {response.text.strip()[:500]}")
        self._raise_for(response, "update")

    def _post_update(self, sparql: str) -> requests.Response:
        if not self.update_url:
            raise StoreError("this store has no update URL configured")
        return self._send(
            "POST",
            self.update_url,
            data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
            timeout=(5, self.timeout + 5),
        )

    def _gsp_works(self) -> bool:
        """Round-trip a one-triple probe graph (outside every data graph) through the URL."""
        graph = probe.probe_graph()
        url, params = self.gsp_url or "", {"graph": graph}
        triple = f"<{graph}> <{graph}> <{graph}> .\n".encode()
        try:
            put = self._send(
                "PUT",
                url,
                params=params,
                data=triple,
                headers={"Content-Type": "application/n-triples"},
                timeout=(5, 10),
            )
            got = self._send(
                "GET",
                url,
                params=params,
                headers={"Accept": "application/n-triples"},
                timeout=(5, 10),
            )
            self._send("DELETE", url, params=params, timeout=(5, 10))
        except StoreError:
            return False
        return put.status_code < 300 and got.status_code == 200 and graph.encode() in got.content

    def raw_update(self, sparql: str) -> None:
        """An update of bookkeeping outside the public dataset (the data version, the journal,
        probes): it touches neither the data version nor the graphs in scope."""
        self._raise_for(self._post_update(sparql), "update")

    def settle(self, since: float | None = None) -> None:
        """Wait until every front end sees this thread's writes since ``since`` (a request's
        start on :func:`time.monotonic`), or with None this process's writes, in its queries'
        scope (:meth:`ScopeWatch.settle`; no wait where the scope is not a list of graphs)."""
        self.scope_watch.settle(since)

    def raw_select_one(self, sparql: str) -> str | None:
        rows = self.select(sparql, union_default_graph=False)
        return next((v["value"] for r in rows for v in r.values()), None)

    def _scope_view(self) -> tuple[str, list[str]]:
        version = self.data_version
        return version, self._scope_graphs(version)

    def _scope_graphs(self, version: str | None = None) -> list[str]:
        version = version if version is not None else self.data_version
        scoped = self._scoped
        if scoped is None or scoped[0] != version:
            scoped = (version, self.graphs())
            self._scoped = scoped
        return scoped[1]

    # --- Graph Store Protocol ------------------------------------------------------------

    def get_graph(self, graph: str | None, *, accept: str = "application/n-triples") -> bytes:
        """The graph's triples in ``accept`` (converted here when the server sent another
        syntax: not every server honours the Accept header of a graph read)."""
        if not self.gsp_url and self.update_url:
            where = f"GRAPH {iri(graph)} {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
            result = self.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}",
                accept="application/n-triples" if self.dialect.canonical_formats else accept,
                union_default_graph=False,
            )
            return converted(result.read(), result.content_type, accept)
        response = self._gsp("GET", graph, headers={"Accept": accept})
        return converted(response.content, response.headers.get("Content-Type", ""), accept)

    def graph_exists(self, graph: str) -> bool:
        """Whether the graph holds any triple (a query: not every server answers a graph-store
        HEAD; Virtuoso 7 says 501)."""
        return self.ask(f"ASK {{ GRAPH {iri(graph)} {{ ?s ?p ?o }} }}", union_default_graph=False)

    def put_graph(
        self, graph: str | None, data: bytes | IO[bytes] | Iterable[bytes], *, content_type: str
    ) -> None:
        """Replace a graph (all-or-nothing on the store's side)."""
        if not self.gsp_url and self.update_url:
            if graph:
                iri(graph)
            self.update(" ;\n".join(self._one_request(graph, data, content_type, replace=True)))
            return
        self._gsp("PUT", graph, data=data, headers={"Content-Type": content_type})

    def post_graph(
        self, graph: str | None, data: bytes | IO[bytes] | Iterable[bytes], *, content_type: str
    ) -> None:
        """Add triples to a graph (all-or-nothing on the store's side)."""
        if not self.gsp_url and self.update_url:
            if graph:
                iri(graph)
            self.update(" ;\n".join(self._one_request(graph, data, content_type, replace=False)))
            return
        self._gsp("POST", graph, data=data, headers={"Content-Type": content_type})

    def _one_request(
        self,
        graph: str | None,
        data: bytes | IO[bytes] | Iterable[bytes],
        content_type: str,
        *,
        replace: bool,
    ) -> list[str]:
        """The operations of a Graph Store Protocol PUT/POST, for one request (the store
        applies it whole): not batched, as the protocol's request is all or nothing."""
        lines = ntriples_lines(data, content_type)
        tx = transaction.Transaction()
        (tx.replace if replace else tx.append)(graph, lines)
        whole = replace_dialect(self.dialect, max_request_triples=None, max_request_chars=None)
        return transaction.redo(tx, whole, self.written)

    def delete_graph(self, graph: str) -> None:
        if not self.gsp_url and self.update_url:
            self.update(f"DROP SILENT GRAPH {iri(graph)}")
            return
        self._gsp("DELETE", graph, ok_404=True)

    # --- facts about the store ---------------------------------------------------------

    def graphs(self) -> list[str]:
        """The named graphs holding data (within ``graph_scope`` when one is set)."""
        scope = self.graph_scope
        where = f"FILTER(STRSTARTS(STR(?g), {json.dumps(scope)}))" if scope else ""
        rows = self.select(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {where} }} ORDER BY ?g",
            union_default_graph=False,
        )
        return [r["g"]["value"] for r in rows]

    def count(self, graph: str | None = None) -> int:
        """Triples in one graph; with ``graph=None``, quads in the whole dataset."""
        if graph is None and self.graph_scope:
            scope = json.dumps(self.graph_scope)
            where = f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), {scope})) }}"
        elif graph is None:
            where = "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
        else:
            where = "{ GRAPH " + iri(graph) + " { ?s ?p ?o } }"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {where}", union_default_graph=False)
        return int(rows[0]["n"]["value"])

    def is_empty(self) -> bool:
        if self.graph_scope:
            scope = json.dumps(self.graph_scope)
            return not self.ask(
                f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), {scope})) }}",
                union_default_graph=False,
            )
        return not self.ask(
            "ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }", union_default_graph=False
        )

    def written(self, lines: Iterable[str]) -> list[str]:
        """N-Triples lines in the form this store keeps their datatypes in."""
        if self.integral_decimals_kept:
            return list(lines)
        return [_INTEGRAL_DECIMAL.sub(r'"\1.0"^^<\2> .', line) for line in lines]

    def prepare_writes(self) -> list[str]:
        """Probe the server's update behaviour once and undo
        unfinished commits of writers that died; the probe's findings as log lines
        (:func:`kb.store.probe.update_behaviour`)."""
        if self._probed is not None:
            return self._probed
        notes: list[str] = []
        if self.probe_updates:
            found = probe.update_behaviour(self)
            self.atomic_updates = found.atomic
            self.integral_decimals_kept = found.integral_decimals_kept
            notes = found.notes
        if self.journal is not None and not self.atomic_updates:
            self.journal.recover()
        self._probed = notes
        return notes

    def check_capabilities(self) -> list[str]:
        """Probe the server at start-up; raise if it cannot serve queries, and say what is
        missing and how ClusterKB degrades (returned as lines for the log)."""
        if not self.ping():
            raise StoreUnavailable(f"the store at {self.query_url} does not answer SPARQL queries")
        notes = [f"store: SPARQL queries at {self.query_url}"]
        if not self.update_url:
            notes.append("store: no update URL: the knowledge base is read-only")
        else:
            self.clock.current()  # creates the version record: proves updates are accepted
            notes.append(f"store: SPARQL Update at {self.update_url}")
            notes += self.prepare_writes()
        if self.gsp_url:
            if self._gsp_works():
                notes.append(f"store: Graph Store Protocol at {self.gsp_url}")
            else:
                notes.append(
                    f"store: {self.gsp_url} does not act as a Graph Store Protocol endpoint: "
                    "graph writes go through SPARQL Update instead"
                )
                self.gsp_url = None
        else:
            notes.append(
                "store: no Graph Store Protocol URL: graph reads and writes go through "
                "SPARQL Query and Update"
            )
        return notes

    def ping(self) -> bool:
        try:
            self.ask("ASK {}", timeout=5)
        except StoreError:
            return False
        return True

    def close(self) -> None:
        self.scope_watch.close()
        self.settle()  # what this process wrote is in every front end's scope before it ends
        self._queries.close()
        self._http.close()

    # --- plumbing ----------------------------------------------------------------------

    def _gsp(
        self, method: str, graph: str | None, *, ok_404: bool = False, **kwargs: Any
    ) -> requests.Response:
        if not self.gsp_url:
            raise StoreError("this store has no Graph Store Protocol URL configured")
        params = {"graph": graph} if graph else {_DEFAULT_GRAPH: ""}
        try:
            response = self._send(
                method, self.gsp_url, params=params, timeout=(5, max(self.timeout, 300)), **kwargs
            )
        finally:
            if method in ("PUT", "POST", "DELETE"):
                try:
                    self.clock.bump()  # after the store acknowledged (or failed) the write
                finally:
                    self.scope_watch.wrote()
        if response.status_code == 400:
            raise QueryRejected(f"the store refused the data: {response.text.strip()[:500]}")
        if not (ok_404 and response.status_code == 404):
            self._raise_for(response, f"graph store {method}")
        return response

    def _post_query(self, fields: list[tuple[str, str]], accept: str, limit: float) -> CurlReply:
        """POST a query form through the libcurl pool (:mod:`kb.store.curl`: a query is the
        hot path)."""
        self.queries_sent += 1
        return self._queries.post(
            self.query_url,
            urlencode(fields).encode("ascii"),
            (
                f"Accept: {accept}",
                "Accept-Encoding: identity",
                "Content-Type: application/x-www-form-urlencoded",
            ),
            read_timeout=limit + 5,
        )

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise QueryTimeout(f"the store did not answer in time ({exc})") from exc
        except requests.RequestException as exc:
            raise StoreUnavailable(f"cannot reach the store at {url}: {exc}") from exc

    @staticmethod
    def _raise_for(response: requests.Response | CurlReply, what: str) -> None:
        if response.status_code < 400:
            return
        text = response.text.strip()[:500]
        response.close()
        if response.status_code in (502, 503, 504):
            raise StoreUnavailable(f"the store could not run the {what}: {text}")
        raise StoreError(f"the store answered {response.status_code} to the {what}: {text}")
