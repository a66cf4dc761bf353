"""Latency of peer suggestions and twinning, measured through HTTP (FastAPI TestClient) or the service.

* peers: `GET /cities/{city}/peers` for cities drawn uniformly from *every* city the engine knows
  (all ~12k Covenant of Mayors signatories plus the content cities), so most queries are
  registry-only cities and some are content cities.
* twinning: `POST /twinning` with 50 pilots x 100 twins (k = 2). The sample corpus has only 55
  content cities, so this part runs on a synthetic corpus: the sample resources (their tags and
  passage vectors) copied onto the largest registry cities until there are enough content cities.

`through="app"` uses the project's real app (`create_app`, lifespan included: the snapshot and the
encoder load once before timing); `through="router"` mounts only the cities router on the given
service; `through="service"` calls the service directly. The HTTP client is made by the caller
(`nzc bench peers`, the composition root): a benchmark does not import the API. The first request
of each kind is a warm-up and is not timed.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import numpy as np

from nzc_knowledge.models import Resource
from nzc_knowledge.recommend.peers import PeerService


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.asarray(samples_ms)
    return {
        "n": int(len(values)),
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "max_ms": round(float(values.max()), 3),
    }


def _timed(call: Callable[[], Any], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def peer_queries(service: PeerService, count: int, seed: int = 0) -> list[tuple[str, str | None]]:
    """(name, country) of `count` cities drawn uniformly from all known cities (names usable in a URL path)."""
    usable = [record for record in service.scorer.records if "/" not in record.name and "?" not in record.name]
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(usable), size=min(count, len(usable)), replace=False)
    return [(usable[index].name, usable[index].country) for index in picks]


def bench_peers(service: PeerService, queries: int = 500, through: str = "service", client: Any = None,
                seed: int = 0) -> dict[str, Any]:
    """p50/p99 of one peers query (limit 5) over cities drawn from the whole registry.

    `client`: an HTTP client (e.g. FastAPI's TestClient) serving `service`, unless `through` is "service".
    """
    sample = peer_queries(service, queries, seed)
    if through == "service":
        def run(name: str, country: str | None) -> Any:
            return service.peers(name, city_country=country)
    else:
        if client is None:
            raise ValueError(f"through={through!r} needs an HTTP client serving the cities routes")

        def run(name: str, country: str | None) -> Any:
            params = {"city_country": country} if country else {}
            response = client.get(f"/cities/{quote(name, safe='')}/peers", params=params)
            if response.status_code != 200:
                raise RuntimeError(f"peers of {name!r} ({country}) answered {response.status_code}: {response.text[:200]}")
            return response

    run(*sample[0])  # warm-up (builds the service behind the real app)
    samples = []
    for name, country in sample:
        started = time.perf_counter()
        run(name, country)
        samples.append((time.perf_counter() - started) * 1000)
    scorer = service.scorer
    with_content = sum(1 for name, country in sample if scorer.records[scorer.resolve(name, country)].has_content)
    return {
        "endpoint": "GET /cities/{city}/peers?limit=5",
        "through": through,
        "cities_known": len(scorer.records),
        "content_cities": len(scorer.content),
        "queried_with_content": with_content,
        **_percentiles(samples),
    }


def synthetic_corpus(
    resources: list[Resource], vectors: dict[str, np.ndarray], registry_records: list[Any], cities: int, seed: int = 0
) -> tuple[list[Resource], dict[str, np.ndarray]]:
    """The sample resources plus copies on the `cities` largest registry cities without content (1-3 each)."""
    rng = np.random.default_rng(seed)
    tagged = [resource for resource in resources if resource.city]
    targets = sorted(
        (record for record in registry_records if not record.has_content and record.kind == "city" and record.population),
        key=lambda record: -record.population,
    )[:cities]
    extra: list[Resource] = []
    extra_vectors: dict[str, np.ndarray] = {}
    for number, record in enumerate(targets):
        for copy in range(int(rng.integers(1, 4))):
            source = tagged[int(rng.integers(len(tagged)))]
            clone = replace(source, id=f"synthetic-{number}-{copy}", city=record.name, country=record.country)
            extra.append(clone)
            if source.id in vectors:
                extra_vectors[clone.id] = vectors[source.id]
    return resources + extra, {**vectors, **extra_vectors}


def bench_twinning(
    service: PeerService, pilots: int = 50, twins: int = 100, capacity: int = 2, repeats: int = 30,
    through: str = "service", client: Any = None, seed: int = 0,
) -> dict[str, Any]:
    """p50/p99 of one twinning request over content cities drawn at random (`client` as for `bench_peers`)."""
    content = [service.scorer.records[position] for position in service.scorer.content]
    if len(content) < pilots + twins:
        raise ValueError(f"{len(content)} content cities, {pilots + twins} needed: use a synthetic corpus")
    rng = np.random.default_rng(seed)
    chosen = [content[index] for index in rng.choice(len(content), size=pilots + twins, replace=False)]
    body = {
        "pilots": [f"{record.name}, {record.country}" for record in chosen[:pilots]],
        "twins": [f"{record.name}, {record.country}" for record in chosen[pilots:]],
        "max_twins_per_pilot": capacity,
    }
    if through == "service":
        def run() -> Any:
            return service.twinning(body["pilots"], body["twins"], capacity)
    else:
        if client is None:
            raise ValueError(f"through={through!r} needs an HTTP client serving the cities routes")

        def run() -> Any:
            response = client.post("/twinning", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"twinning answered {response.status_code}: {response.text[:300]}")
            return response

    run()  # warm-up
    result = service.twinning(body["pilots"], body["twins"], capacity)
    return {
        "endpoint": "POST /twinning",
        "through": through,
        "pilots": pilots,
        "twins": twins,
        "max_twins_per_pilot": capacity,
        "content_cities": len(service.scorer.content),
        "pairs": len(result.pairs),
        **_percentiles(_timed(run, repeats)),
    }


def environment() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine()}
