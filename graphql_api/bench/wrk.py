"""The optional `wrk` driver (`--driver wrk`, when installed), to cross-check the Python one.

On this project's 2-core VM it costs no less CPU per request than the Python driver: the
kernel's share (wake-up, recv, send) dominates, and its Lua response hook is not free.

A Lua script rotates the scenario's pre-formatted requests (one per member) and, like the
Python driver, scans the start and end of every body for GraphQL errors and reads
`extensions` from every Nth. Lua has no JSON decoder, so an error is an `"errors": [{`
list there, and non-200 statuses are counted by the script (wrk itself counts only >= 400).
wrk takes whole seconds and has no request budget: `--duration`/`--warmup` round up,
`--max-requests` is ignored. Its CPU is the kernel's account of reaped children, taken
around the two runs.
"""

import json
import math
import resource
import shutil
from pathlib import Path
from typing import Any

from graphql_api.bench.drivers import LoadSpec, run_child
from graphql_api.bench.load import HEADERS, scenario_bodies

_MARKER = "BENCH-JSON "
_LUA = r"""
-- Written by graphql_api/bench/wrk.py for one run.
local bodies_path, check_every, marker = %(bodies)s, %(check_every)d, %(marker)s
%(headers)s
local threads, next_id = {}, 0
local errors_list = '"errors"%%s*:%%s*%%[%%s*{'

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for line in io.lines(bodies_path) do
    requests[#requests + 1] = wrk.format("POST", nil, nil, line)
  end
  index = (id * 7919) %% #requests
  seen, checked, bad_status, graphql_errors, statements, counted = 0, 0, 0, 0, 0, 0
  plans, samples = {}, {}
end

function request()
  index = index %% #requests + 1
  return requests[index]
end

local function sample(text)
  if #samples < 5 then samples[#samples + 1] = text:sub(1, 250) end
end

function response(status, headers, body)
  body = body or ""
  seen = seen + 1
  -- Like the Python driver: look for errors only near the start and the end of a body.
  local head, tail_from = body:sub(1, 512), math.max(1, #body - 16383)
  if status ~= 200 then
    bad_status = bad_status + 1
    sample("HTTP " .. status .. ": " .. head)
  elseif body:find(errors_list, tail_from) or head:find(errors_list) then
    graphql_errors = graphql_errors + 1
    sample("GraphQL errors: " .. body:sub(body:find(errors_list, tail_from) or 1))
  elseif (seen - 1) %% check_every == 0 then
    checked = checked + 1
    local count = body:match('"sqlStatements"%%s*:%%s*(%%d+)', tail_from)
    if count then statements, counted = statements + tonumber(count), counted + 1 end
    local plan = body:match('"plan"%%s*:%%s*"(%%w+)"', tail_from) or ""
    plans[plan] = (plans[plan] or 0) + 1
  end
end

local function json_string(text)
  local function escape(c) return string.format("\\u%%04x", c:byte()) end
  return '"' .. text:gsub('[%%c"\\]', escape) .. '"'
end

function done(summary, latency, _)
  local total = {checked = 0, bad_status = 0, graphql_errors = 0, statements = 0, counted = 0}
  local plans_out, samples_out = {}, {}
  for _, thread in ipairs(threads) do
    for name in pairs(total) do total[name] = total[name] + thread:get(name) end
    for plan, n in pairs(thread:get("plans")) do plans_out[plan] = (plans_out[plan] or 0) + n end
    for _, text in ipairs(thread:get("samples")) do samples_out[#samples_out + 1] = text end
  end
  local e = summary.errors
  local parts = {}
  for plan, n in pairs(plans_out) do parts[#parts + 1] = json_string(plan) .. ":" .. n end
  local quoted = {}
  for i, text in ipairs(samples_out) do quoted[i] = json_string(text) end
  io.write(marker, string.format(
    '{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p95_us":%%d,"p99_us":%%d,"mean_us":%%f,'
    .. '"socket_errors":%%d,"bad_status":%%d,"graphql_errors":%%d,"checked":%%d,'
    .. '"statements":%%d,"counted":%%d,"plans":{%%s},"samples":[%%s]}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, e.connect + e.read + e.write + e.timeout,
    total.bad_status, total.graphql_errors, total.checked, total.statements, total.counted,
    table.concat(parts, ","), table.concat(quoted, ",")), "\n")
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _scenario_bodies(spec: LoadSpec) -> list[bytes]:
    from graphql_api.bench.queries import SCENARIOS

    members: list[str] = json.loads(spec.members_file.read_text())
    return scenario_bodies(SCENARIOS[spec.scenario], members, spec.seed)


def write_script(spec: LoadSpec, bodies: list[bytes]) -> Path:
    """The Lua script, and next to it the bodies it rotates (one JSON document per line)."""
    if any(b"\n" in body for body in bodies):
        raise ValueError("request bodies must be single-line JSON")
    bodies_path = spec.workdir / f"{spec.scenario}.bodies"
    bodies_path.write_bytes(b"\n".join(bodies))
    headers = "\n".join(
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in HEADERS.items()
    )
    script = spec.workdir / f"{spec.scenario}.lua"
    script.write_text(
        _LUA
        % {
            "bodies": _lua_string(str(bodies_path)),
            "check_every": max(1, spec.check_every),
            "marker": _lua_string(_MARKER),
            "headers": headers,
        }
    )
    return script


def _run_once(wrk: str, script: Path, spec: LoadSpec, seconds: float) -> dict[str, Any]:
    argv = [
        wrk, "-t1", f"-c{spec.concurrency}", f"-d{max(1, math.ceil(seconds))}s",
        "--timeout", "30s", "-s", str(script), spec.url,
    ]  # fmt: skip
    output = run_child(argv, timeout=seconds + 120, name="wrk")
    for line in output.splitlines():
        if line.startswith(_MARKER):
            parsed: dict[str, Any] = json.loads(line[len(_MARKER) :])
            return parsed
    raise RuntimeError(f"wrk printed no results:\n{output[-2000:]}")


def run_wrk(spec: LoadSpec, bodies: list[bytes] | None = None) -> dict[str, Any]:
    """Warm-up and measured runs; `bodies` default to the scenario's, one per member."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("--driver wrk: wrk is not installed (Debian: apt-get install wrk)")
    script = write_script(spec, _scenario_bodies(spec) if bodies is None else bodies)
    cpu_before = _children_cpu_seconds()
    warm = _run_once(wrk, script, spec, spec.warmup) if spec.warmup > 0 else {"requests": 0}
    run = _run_once(wrk, script, spec, spec.duration)
    cpu = _children_cpu_seconds() - cpu_before
    seconds = run["duration_us"] / 1e6
    return {
        "warmup_requests": warm["requests"],
        "requests": run["requests"],
        "errors": run["socket_errors"] + run["bad_status"] + run["graphql_errors"],
        "seconds": round(seconds, 3),
        "requests_per_second": round(run["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(run["p50_us"] / 1000, 2),
        "p95_ms": round(run["p95_us"] / 1000, 2),
        "p99_ms": round(run["p99_us"] / 1000, 2),
        "mean_ms": round(run["mean_us"] / 1000, 2),
        "sql_statements_per_request": (
            round(run["statements"] / run["counted"], 2) if run["counted"] else None
        ),
        "plans": run["plans"],
        "checked_responses": run["checked"],
        "driver_cpu_seconds": round(cpu, 3),
        "error_samples": run["samples"],
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
