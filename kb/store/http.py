"""A store reached over the SPARQL 1.1 Protocol, Update and the Graph Store Protocol.

This is the only code that talks to the database at run time; it speaks the standards, so it
works against the managed Oxigraph server and against any SPARQL 1.1 server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import requests
from rdflib import Graph

from kb.errors import QueryRejected, QueryTimeout, StoreError, StoreUnavailable

#: What Oxigraph appends to a result stream when ``--timeout-s`` cancels a running query
#: (the status line, 200, has already gone out by then).
_CANCELLED = b"The SPARQL operation has been cancelled"
_DEFAULT_GRAPH = "default"


@dataclass
class StoreResponse:
    """A query result as the store sent it: media type and a byte stream read on demand."""

    content_type: str
    _response: requests.Response
    _tail: bytes = field(default=b"", init=False)

    def iter_bytes(self, chunk_size: int = 65536) -> Iterator[bytes]:
        """The body, chunk by chunk; raises :class:`QueryTimeout` if the store gave up."""
        try:
            for chunk in self._response.iter_content(chunk_size):
                window = self._tail + chunk
                if _CANCELLED in window:
                    raise QueryTimeout("the query was stopped by the store's time limit")
                self._tail = window[-len(_CANCELLED):]
                yield chunk
        except requests.RequestException as exc:
            raise StoreUnavailable(f"the store stopped answering: {exc}") from exc
        finally:
            self._response.close()

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        self._response.close()


class SparqlHttpStore:
    """SPARQL 1.1 Query / Update / Graph Store Protocol client.

    ``union_default_graph_param`` names the URL parameter that asks the server to treat the
    default graph as the union of all graphs (Oxigraph: ``union-default-graph``); servers
    whose default graph already is the union (Virtuoso) need none.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        auth: tuple[str, str] | None = None,
        timeout: float = 30.0,
        union_default_graph_param: str | None = None,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.union_param = union_default_graph_param
        self._http = requests.Session()
        self._http.auth = auth
        self._http.trust_env = False  # never route loopback traffic through a proxy

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
    ) -> StoreResponse:
        """Run a read-only query; the caller reads the result stream."""
        params: list[tuple[str, str]] = [("default-graph-uri", g) for g in default_graph_uris]
        params += [("named-graph-uri", g) for g in named_graph_uris]
        if union_default_graph and self.union_param and not default_graph_uris:
            params.append((self.union_param, ""))
        limit = timeout if timeout is not None else self.timeout
        response = self._send(
            "POST", self.query_url, params=params, data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query; charset=utf-8",
                     "Accept": accept},
            stream=True, timeout=(5, limit + 5),
        )
        if response.status_code == 400:
            text = response.text.strip()
            response.close()
            raise QueryRejected(f"syntax error: {text[:500]}")
        self._raise_for(response, "query")
        return StoreResponse(response.headers.get("Content-Type", accept), response)

    def select(self, sparql: str, **kwargs: Any) -> list[dict[str, Any]]:
        """SELECT results as a list of {variable: binding-dict} (SPARQL JSON bindings)."""
        body = json.loads(self.query(sparql, **kwargs).read())
        return list(body["results"]["bindings"])

    def ask(self, sparql: str, **kwargs: Any) -> bool:
        return bool(json.loads(self.query(sparql, **kwargs).read())["boolean"])

    def construct(self, sparql: str, **kwargs: Any) -> Graph:
        data = self.query(sparql, accept="application/n-triples", **kwargs).read()
        return Graph().parse(data=data.decode("utf-8"), format="nt")

    # --- updates -----------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update; the store applies it all-or-nothing."""
        if not self.update_url:
            raise StoreError("this store has no update URL configured")
        response = self._send(
            "POST", self.update_url, data=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
            timeout=(5, self.timeout + 5),
        )
        if response.status_code == 400:
            raise QueryRejected(f"update refused by the store: {response.text.strip()[:500]}")
        self._raise_for(response, "update")

    # --- Graph Store Protocol ------------------------------------------------------------

    def get_graph(self, graph: str | None, *, accept: str = "application/n-triples") -> bytes:
        response = self._gsp("GET", graph, headers={"Accept": accept})
        return response.content

    def graph_exists(self, graph: str) -> bool:
        response = self._gsp("HEAD", graph, ok_404=True)
        return response.status_code != 404

    def put_graph(self, graph: str | None, data: bytes | IO[bytes] | Iterable[bytes],
                  *, content_type: str) -> None:
        """Replace a graph (all-or-nothing on the store's side)."""
        self._gsp("PUT", graph, data=data, headers={"Content-Type": content_type})

    def post_graph(self, graph: str | None, data: bytes | IO[bytes] | Iterable[bytes],
                   *, content_type: str) -> None:
        """Add triples to a graph (all-or-nothing on the store's side)."""
        self._gsp("POST", graph, data=data, headers={"Content-Type": content_type})

    def delete_graph(self, graph: str) -> None:
        self._gsp("DELETE", graph, ok_404=True)

    # --- facts about the store ---------------------------------------------------------

    def graphs(self) -> list[str]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
                           union_default_graph=False)
        return [r["g"]["value"] for r in rows]

    def count(self, graph: str | None = None) -> int:
        """Triples in one graph; with ``graph=None``, quads in the whole dataset."""
        if graph is None:
            where = "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
        else:
            where = "{ GRAPH <" + graph + "> { ?s ?p ?o } }"
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {where}", union_default_graph=False)
        return int(rows[0]["n"]["value"])

    def is_empty(self) -> bool:
        return not self.ask("ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
                            union_default_graph=False)

    def ping(self) -> bool:
        try:
            self.ask("ASK {}", timeout=5)
        except StoreError:
            return False
        return True

    def close(self) -> None:
        self._http.close()

    # --- plumbing ----------------------------------------------------------------------

    def _gsp(self, method: str, graph: str | None, *, ok_404: bool = False,
             **kwargs: Any) -> requests.Response:
        if not self.gsp_url:
            raise StoreError("this store has no Graph Store Protocol URL configured")
        params = {"graph": graph} if graph else {_DEFAULT_GRAPH: ""}
        response = self._send(method, self.gsp_url, params=params,
                               timeout=(5, max(self.timeout, 300)), **kwargs)
        if response.status_code == 400:
            raise QueryRejected(f"the store refused the data: {response.text.strip()[:500]}")
        if not (ok_404 and response.status_code == 404):
            self._raise_for(response, f"graph store {method}")
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except requests.Timeout as exc:
            raise QueryTimeout(f"the store did not answer in time ({exc})") from exc
        except requests.RequestException as exc:
            raise StoreUnavailable(f"cannot reach the store at {url}: {exc}") from exc

    @staticmethod
    def _raise_for(response: requests.Response, what: str) -> None:
        if response.status_code < 400:
            return
        text = response.text.strip()[:500]
        response.close()
        if response.status_code in (502, 503, 504):
            raise StoreUnavailable(f"the store could not run the {what}: {text}")
        raise StoreError(f"the store answered {response.status_code} to the {what}: {text}")
