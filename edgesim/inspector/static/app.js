// The inspector's views; ui.js has the helpers. Routing by location.hash: #/requests,
// #/request/<id>, #/functions, #/kvs[/<store>], #/cache, #/distribution.
"use strict";

const state = { flows: [], last: 0, info: null, pops: [], timer: null, view: "" };
const MAX_ROWS = 1000;
const main = document.getElementById("main");
const live = document.getElementById("live");

function render(node) { main.replaceChildren(node); }

async function route() {
  clearInterval(state.timer);
  state.timer = null;
  const [, view = "requests", arg] = location.hash.split("/");
  state.view = view;
  for (const a of document.querySelectorAll("nav a")) {
    const current = a.dataset.view === view || (view === "request" && a.dataset.view === "requests");
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try {
    if (view === "request") await showRequest(decodeURIComponent(arg || ""));
    else if (view === "functions") await poll(showFunctions, 2000);
    else if (view === "kvs") await poll(() => showKvs(arg ? decodeURIComponent(arg) : null), 1000);
    else if (view === "cache") await poll(showCache, 2000);
    else if (view === "distribution") await showDistribution();
    else showRequests();
  } catch (error) {
    render(message(String(error.message || error), true));
  }
}

async function poll(show, every) {
  await show();
  state.timer = setInterval(() => show().catch(() => {}), every);
}

// -- Requests --------------------------------------------------------------------------------
const filters = { pop: "", status: "", x_cache: "", q: "" };

function matches(f) {
  if (filters.pop && f.pop !== filters.pop) return false;
  if (filters.status) {
    const wanted = filters.status.split(",").map((x) => x.trim()).filter(Boolean);
    if (wanted.length && !wanted.some((w) => String(f.status) === w || `${String(f.status)[0]}xx` === w)) return false;
  }
  if (filters.x_cache && f.x_cache !== filters.x_cache) return false;
  return !filters.q || f.path.includes(filters.q);
}

const X_CACHE = ["Hit", "RefreshHit", "Miss", "Error", "Redirect", "FunctionGeneratedResponse", "FunctionExecutionError", "FunctionValidationError", "FunctionThrottledError"];

function showRequests() {
  const field = (name, control) => { control.value = filters[name]; control.addEventListener("input", () => { filters[name] = control.value; drawRows(); }); return control; };
  const bar = h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
    h("label", null, "POP", field("pop", h("select", { id: "f-pop" }, h("option", { value: "" }, "all"), state.pops.map((p) => h("option", { value: p }, p))))),
    h("label", null, "Status", field("status", h("input", { id: "f-status", size: 8, placeholder: "200, 5xx" }))),
    h("label", null, "X-Cache", field("x_cache", h("select", { id: "f-xcache" }, h("option", { value: "" }, "all"), X_CACHE.map((x) => h("option", { value: x }, x))))),
    h("label", null, "Path contains", field("q", h("input", { id: "f-path", size: 24, placeholder: "/images" }))),
    h("button", { type: "button", class: "secondary", onclick: () => { state.flows = []; drawRows(); } }, "Clear list"));
  render(h("div", null, h("h2", null, "Requests ", h("span", { class: "muted", id: "count" })), bar, h("div", { id: "rows" })));
  drawRows();
}

function drawRows() {
  const holder = document.getElementById("rows");
  if (!holder) return;
  const rows = state.flows.filter(matches).slice(-200).reverse();
  document.getElementById("count").textContent = `(${rows.length} shown, newest first; ${state.flows.length} kept)`;
  if (!rows.length) { holder.replaceChildren(message("No requests yet: send some to the viewer port" + (state.info ? ` (http://127.0.0.1:${state.info.viewer_port}/)` : "") + ".")); return; }
  holder.replaceChildren(table([
    { title: "Time", cell: (f) => h("a", { href: `#/request/${encodeURIComponent(f.id)}`, class: "row-link mono" }, time(f.time_ms)) },
    { title: "POP", cell: (f) => f.pop },
    { title: "Method", cell: (f) => f.method },
    { title: "Path", cell: (f) => h("span", { class: "mono" }, f.path) },
    { title: "Behaviour", cell: (f) => f.behavior || "—" },
    { title: "X-Cache", cell: (f) => f.failure ? `${f.x_cache} (${f.failure})` : f.x_cache },
    { title: "Status", num: true, cell: (f) => f.status || "000", cls: (f) => statusClass(f.status) },
    { title: "Functions (utilization)", cell: (f) => f.functions.map((r) => h("span", { class: "pill" + (r.error_kind ? " error" : "") }, `${r.name} ${r.utilization}%${r.error_kind ? " " + r.error_kind : ""}`)) },
    { title: "Duration", num: true, cell: (f) => fmtMs(f.duration_ms) },
  ], rows, (f) => ({ "data-id": f.id, "data-seq": f.seq })));
}

function addFlows(flows) {
  for (const f of flows) { state.flows.push(f); state.last = Math.max(state.last, f.seq); }
  if (state.flows.length > MAX_ROWS) state.flows.splice(0, state.flows.length - MAX_ROWS);
  if (state.view === "requests") drawRows();
}

function connect() {
  const source = new EventSource(`/inspector/api/stream?after=${state.last}`);
  source.addEventListener("open", () => { live.textContent = "live"; live.classList.add("on"); });
  source.addEventListener("flow", (e) => addFlows([JSON.parse(e.data)]));
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.classList.remove("on"); });
}

// -- One request ------------------------------------------------------------------------------
async function showRequest(id) {
  const { body: f } = await api(`/inspector/api/flows/${encodeURIComponent(id)}`);
  const runs = f.function_runs.map((run) => card(`Function ${run.name} (${run.event_type})`,
    kv([["utilization", `${run.utilization}%`], ["error", run.error_kind ? `${run.error_kind}: ${run.error}` : null],
        run.error_position && ["at", run.error_position], run.custom_log_data && ["logCustomData", run.custom_log_data]]),
    run.error_stack.length ? h("pre", { class: "error" }, run.error_stack.join("\n")) : null,
    run.warnings.length ? message(run.warnings.join("\n")) : null,
    h("h3", null, "Logs"), run.logs.length ? h("pre", { class: "logs" }, run.logs.join("\n")) : h("p", { class: "muted" }, "no console output"),
    h("h3", null, "KVS reads"), kvsReads(run.kvs),
    h("div", { class: "grid2" },
      h("div", null, h("h3", null, "Received"), pretty(run.received)),
      h("div", null, h("h3", null, "Returned"), pretty(run.returned)))));
  const err = f.error;
  render(h("div", null,
    h("p", null, h("a", { href: "#/requests" }, "← Requests")),
    h("h2", null, `${f.method} `, h("span", { class: "mono" }, f.path), " ", h("span", { class: statusClass(f.status) }, String(f.status || "000")), ` ${f.x_cache}`),
    err ? message(`${err.source}: ${err.kind}: ${err.message || ""}${err.position ? " at " + err.position : ""}`, true) : null,
    h("div", { class: "grid2" },
      card("Summary", kv([["request id", f.id], ["time", new Date(f.time_ms).toISOString()], ["POP", f.pop], ["behaviour", f.behavior], ["duration", fmtMs(f.duration_ms)], ["bytes sent", f.bytes]])),
      card("Timeline", timeline(f.trace))),
    card("What changed in the request", changes(f.changes)),
    runs,
    h("div", { class: "grid2" },
      card("Cache", kv([["decision", f.cache.decision], ["key", f.cache.key]])),
      card("Origin", kv([["origin", f.origin.target], ["status", f.origin.status], ["failure", f.origin.failure]]),
        (f.origin.requests || []).map((sent) => [
          h("h3", null, `Sent to ${sent.url}`),
          h("pre", null, `${sent.method} ${sent.path}${sent.query ? "?" + sent.query : ""}`),
          headersTable(sent.headers)]))),
    card("Response", kv([["status", f.response.status], ["x-cache", f.response.x_cache], ["detail", f.response.detail]]),
      headersTable(f.response.headers),
      f.response.body !== null ? [h("h3", null, `Body (${f.response.body_size} bytes${f.response.body_truncated ? ", cut" : ""})`), h("pre", null, f.response.body)] : null),
    card("Request as received", headersTable(f.viewer_request ? f.viewer_request.headers : [])),
    composer(f)));
}

function kvsReads(kvs) {
  if (!kvs) return h("p", { class: "muted" }, "no KVS store associated");
  return h("div", null, h("p", { class: "muted" }, `store ${kvs.store}, replica version ${kvs.version ?? "?"} at this POP`),
    kvs.reads.length ? table([{ title: "Key", cell: (r) => h("code", null, r.key) }, { title: "Value", cell: (r) => r.found ? h("code", null, r.value) : h("span", { class: "error" }, "not found") }], kvs.reads) : h("p", { class: "muted" }, "no reads"));
}

function changes(list) {
  if (!list.length) return h("p", { class: "muted" }, "unchanged: the request went on as the viewer sent it");
  return table([
    { title: "Part", cell: (c) => c.name ? `header ${c.name}` : c.part },
    { title: "As received", cell: (c) => c.before === null ? h("span", { class: "muted" }, "(absent)") : h("code", null, c.before), cls: (c) => c.before !== null ? "removed" : "" },
    { title: "As forwarded", cell: (c) => c.after === null ? h("span", { class: "muted" }, "(removed)") : h("code", null, c.after), cls: (c) => c.after !== null ? "added" : "" },
  ], list, () => ({ class: "change" }));
}

function headersTable(headers) {
  if (!headers.length) return h("p", { class: "muted" }, "no headers");
  return table([{ title: "Header", cell: (x) => h("code", null, x[0]) }, { title: "Value", cell: (x) => h("code", null, x[1]) }], headers);
}

function timeline(trace) {
  const total = Math.max(0.001, ...trace.map((t) => t.at_ms));
  const width = 560, row = 20, labelW = 120, chartW = width - labelW - 70;
  const svg = s("svg", { width, height: trace.length * row + 6, role: "img", "aria-label": trace.map((t) => `${t.stage} at ${t.at_ms} ms`).join(", ") });
  trace.forEach((t, i) => {
    const x0 = labelW + ((t.at_ms - t.took_ms) / total) * chartW, w = Math.max(2, (t.took_ms / total) * chartW), y = i * row + 3;
    const note = Object.entries(t.detail).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ");
    svg.append(s("text", { x: 0, y: y + 13 }, t.stage));
    svg.append(s("rect", { x: x0, y: y + 3, width: w, height: row - 8, fill: "#7aa2f7", rx: 2 }, s("title", null, `${t.stage}: ${t.took_ms} ms ${note}`)));
    svg.append(s("text", { x: Math.min(x0 + w + 4, width - 66), y: y + 13 }, `${t.took_ms.toFixed(2)} ms`));
  });
  return h("div", null, svg, h("p", { class: "muted" }, trace.map((t) => `${t.stage} ${Object.entries(t.detail).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`).join(" ")}`).join(" · ")));
}

function composer(f) {
  const pop = h("select", { id: "send-pop" }, state.pops.map((p) => h("option", { value: p, selected: p === f.pop }, p)));
  const country = h("input", { id: "send-country", size: 4, value: (f.viewer_request && f.viewer_request.country) || "", placeholder: "US" });
  const name = h("input", { id: "send-header", size: 16, placeholder: "header name" });
  const value = h("input", { id: "send-value", size: 20, placeholder: "value" });
  const cookie = h("input", { id: "send-cookie", size: 20, placeholder: "name=value" });
  const out = h("div", { role: "status" });
  const send = async (e) => {
    e.preventDefault();
    const kept = (f.viewer_request ? f.viewer_request.headers : []).filter(([n]) => !["host", "content-length", "cookie", "connection"].includes(n) && !n.startsWith("cloudfront-") && n !== name.value.toLowerCase());
    if (name.value) kept.push([name.value, value.value]);
    if (cookie.value) kept.push(["cookie", cookie.value]);
    const path = f.viewer_request ? f.viewer_request.uri + (f.viewer_request.query !== null ? "?" + f.viewer_request.query : "") : f.path;
    try {
      const { body } = await api("/inspector/api/send", { method: "POST", json: { method: f.method, path, headers: kept, pop: pop.value, country: country.value } });
      out.replaceChildren(message(`sent: ${body.status} ${body.x_cache || ""} `), body.id ? h("a", { href: `#/request/${encodeURIComponent(body.id)}` }, "open it") : "");
    } catch (error) { out.replaceChildren(message(error.message, true)); }
  };
  return card("Send again", h("form", { class: "filters", onsubmit: send },
    h("label", null, "POP", pop), h("label", null, "Country", country), h("label", null, "Header", name), h("label", null, "Value", value),
    h("label", null, "Cookie", cookie), h("button", { type: "submit" }, "Send")), out);
}

// -- Functions --------------------------------------------------------------------------------
async function showFunctions() {
  const { body } = await api("/inspector/api/functions");
  render(h("div", null, h("h2", null, "Functions"), body.functions.length ? body.functions.map((fn) => card(fn.name,
    kv([["file", fn.file], ["runtime", fn.runtime], ["KVS store", fn.kvs], ["compat", fn.compat], ["version", `${fn.version}${fn.loaded ? "" : " (not loaded)"}`],
        ["last reload", fn.last_reload ? `${new Date(fn.last_reload.at_ms).toISOString()} ${fn.last_reload.ok ? "ok" : "refused"}` : "none since start"],
        ["invocations", fn.invocations], ["execution errors", fn.errors.execution], ["validation errors", fn.errors.validation], ["throttles", `${fn.throttles}${fn.throttled ? " (throttled now)" : ""}`],
        ["utilization", `p50 ${fn.utilization.p50 ?? "—"}%, p99 ${fn.utilization.p99 ?? "—"}%, max ${fn.utilization.max ?? "—"}% (percentiles over the last ${fn.utilization.recent_runs} runs kept)`]]),
    fn.build ? kv([["build", `${fn.build.command} — ${fn.build.building ? "building" : fn.build.ok === null ? "not run yet" : fn.build.ok ? "ok" : "failed"}${fn.build.seconds !== null ? ` (${fn.build.seconds} s)` : ""}`]]) : null,
    fn.build && fn.build.ok === false && fn.build.output ? h("pre", { class: "error" }, fn.build.output) : null,
    fn.last_error ? message(fn.last_error, true) : null,
    fn.warnings.length ? message(fn.warnings.join("\n")) : null,
    h("h3", null, "Compute utilization histogram"), bars(fn.utilization.histogram.map((b) => ({ label: b.bucket + "%", value: b.count }))))) : message("No functions in this distribution.")));
}

// -- KVS --------------------------------------------------------------------------------------
// The KVS and Cache views build their frame (forms included) once and refresh only the parts
// that change, so a poll never takes the focus or half-typed text away.
async function showKvs(storeName) {
  const { body } = await api("/inspector/api/kvs");
  if (!body.stores.length) { render(message("No KeyValueStores.")); return; }
  const store = body.stores.find((x) => x.name === storeName) || body.stores[0];
  const { body: keys } = await api(`/inspector/api/kvs/${encodeURIComponent(store.name)}/keys`);
  const frame = document.getElementById("kvs-frame");
  if (!frame || frame.dataset.store !== store.name) {
    render(h("div", { id: "kvs-frame", "data-store": store.name },
      h("h2", null, "KeyValueStores"),
      h("nav", { "aria-label": "Stores", id: "kvs-stores" }),
      card(`Store ${store.name}`, h("div", { id: "kvs-store" })),
      card("Keys (what each POP serves now)", h("div", { id: "kvs-keys" }), putForm(store), h("div", { id: "kvs-note", role: "status" })),
      card("Propagation of recent writes", h("div", { id: "kvs-timeline" }))));
  }
  document.getElementById("kvs-stores").replaceChildren(...body.stores.map((x) => h("a", { href: `#/kvs/${encodeURIComponent(x.name)}`, "aria-current": x.name === store.name ? "page" : null }, `${x.name} (${x.items})`)));
  document.getElementById("kvs-store").replaceChildren(kv([["ARN", store.arn], ["ETag", store.etag], ["size", `${store.size} bytes`]]),
    table([{ title: "POP", cell: (p) => p.pop }, { title: "Version", num: true, cell: (p) => p.version }, { title: "In sync", cell: (p) => p.in_sync ? "yes" : "no", cls: (p) => p.in_sync ? "" : "stale" },
      { title: "Pending", cell: (p) => p.pending.map((x) => `v${x.version} in ${x.lands_in_s}s`).join(", ") || "—" }], store.pops, (p) => ({ "data-pop": p.pop })));
  document.getElementById("kvs-keys").replaceChildren(keysTable(keys));
  document.getElementById("kvs-timeline").replaceChildren(propagation(store.timeline, body.pops, body.now_ms));
}

function keysTable(keys) {
  if (!keys.keys.length) return h("p", { class: "muted" }, "empty store");
  return table([{ title: "Key", cell: (k) => h("code", null, k.key) }, { title: "Latest", cell: (k) => k.value === null ? h("span", { class: "muted" }, "(deleted)") : h("code", null, k.value) },
    ...keys.pops.map((pop) => ({ title: pop, cell: (k) => k.pops[pop] === null ? h("span", { class: "muted" }, "—") : h("code", null, k.pops[pop]), cls: (k) => k.pops[pop] !== k.value ? "stale" : "" })),
    { title: "", cell: (k) => k.value === null ? "" : h("button", { type: "button", class: "danger", "aria-label": `delete ${k.key}`, onclick: () => kvsWrite(keys.arn, k.key, null) }, "Delete") }],
    keys.keys, (k) => ({ "data-key": k.key }));
}

function putForm(store) {
  const key = h("input", { id: "kvs-key", placeholder: "key", required: true });
  const value = h("input", { id: "kvs-value", placeholder: "value", size: 30 });
  return h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); kvsWrite(store.arn, key.value, value.value); } },
    h("label", null, "Key", key), h("label", null, "Value", value), h("button", { type: "submit", id: "kvs-put" }, "Put"));
}

// Writes go through the KVS API with the store's ETag, exactly as boto3 sends them.
async function kvsWrite(arn, key, value) {
  const note = document.getElementById("kvs-note");
  const base = `/key-value-stores/${encodeURIComponent(arn)}`;
  try {
    const { headers } = await api(base);
    const etag = headers.get("ETag");
    const path = `${base}/keys/${encodeURIComponent(key)}`;
    if (value === null) await api(path, { method: "DELETE", headers: { "If-Match": etag } });
    else await api(path, { method: "PUT", headers: { "If-Match": etag }, json: { Value: value } });
    note.replaceChildren(message(`${value === null ? "deleted" : "put"} ${key}: acknowledged; watch it land POP by POP`));
    await showKvs(decodeURIComponent(location.hash.split("/")[2] || "") || null);
  } catch (error) { note.replaceChildren(message(error.message, true)); }
}

function propagation(writes, pops, now) {
  if (!writes.length) return h("p", { class: "muted" }, "no writes since the inspector started watching");
  const width = 640, row = 20, labelW = 140;
  const spans = writes.flatMap((w) => Object.values(w.lands).map((l) => l.at_ms - w.written_ms));
  const span = Math.max(1000, ...spans);
  const blocks = writes.slice().reverse().map((w) => {
    const svg = s("svg", { width, height: (pops.length + 1) * row + 4, role: "img", class: "propagation", "data-version": w.version, "aria-label": `version ${w.version}: ` + pops.map((p) => `${p} ${w.lands[p] ? (w.lands[p].landed ? "landed" : "pending") : "?"}`).join(", ") });
    const x = (ms) => labelW + (Math.max(0, ms - w.written_ms) / span) * (width - labelW - 80);
    svg.append(s("text", { x: 0, y: 14 }, `write v${w.version}`), s("circle", { cx: x(w.written_ms), cy: 10, r: 4, fill: "#1d2330" }, s("title", null, new Date(w.written_ms).toISOString())));
    pops.forEach((pop, i) => {
      const land = w.lands[pop], y = (i + 1) * row + 10;
      svg.append(s("text", { x: 0, y: y + 4 }, pop));
      if (!land) return;
      const color = land.landed ? "#1b7f3b" : "#a15c00";
      svg.append(s("line", { x1: x(w.written_ms), x2: x(land.at_ms), y1: y, y2: y, stroke: color, "stroke-width": 2, "stroke-dasharray": land.landed ? null : "4 3" }));
      svg.append(s("circle", { cx: x(land.at_ms), cy: y, r: 4, fill: land.landed ? color : "#fff", stroke: color, class: land.landed ? "landed" : "pending", "data-pop": pop }, s("title", null, `${pop}: ${land.landed ? "landed" : "lands"} ${((land.at_ms - w.written_ms) / 1000).toFixed(3)} s after the write${land.observed ? " (observed)" : ""}`)));
      svg.append(s("text", { x: Math.min(x(land.at_ms) + 8, width - 70), y: y + 4 }, `${land.landed ? "" : "in "}${(((land.landed ? land.at_ms - w.written_ms : land.at_ms - now)) / 1000).toFixed(1)} s`));
    });
    return svg;
  });
  return h("div", null, blocks, h("p", { class: "muted" }, "Filled dot: landed (time after the write); hollow: pending (time left). Times on the edge clock."));
}

// -- Cache ------------------------------------------------------------------------------------
async function showCache() {
  const { body } = await api("/inspector/api/cache");
  if (!document.getElementById("cache-frame")) {
    const path = h("input", { id: "inv-path", value: "/*", size: 30 });
    const out = h("div", { id: "inv-note", role: "status" });
    const invalidate = async (e) => {
      e.preventDefault();
      try {
        const { body: r } = await api("/cache/invalidations", { method: "POST", json: { paths: [path.value] } });
        out.replaceChildren(message(`invalidated ${r.invalidated[path.value]} object(s) matching ${path.value}`));
        await showCache();
      } catch (error) { out.replaceChildren(message(error.message, true)); }
    };
    render(h("div", { id: "cache-frame" }, h("h2", null, "Cache"),
      card("Invalidate", h("form", { class: "filters", onsubmit: invalidate }, h("label", null, "Path pattern (* only at the end)", path), h("button", { type: "submit", id: "inv-go" }, "Invalidate")), out,
        h("p", { class: "muted", id: "cache-stats" })),
      h("div", { id: "cache-pops" })));
  }
  const st = body.stats, rq = body.requests;
  document.getElementById("cache-stats").textContent = `${st.entries} objects, ${st.bytes} bytes, ${st.evictions} evicted, ${st.invalidated} invalidated; requests: ${rq.hits} hits, ${rq.misses} misses (hit rate ${(rq.hit_rate * 100).toFixed(1)} %)` +
    (st.per_worker ? "; each worker has its own cache: an object two workers hold is listed twice" : "") +
    (st.shared ? "; one cache shared by the workers" : "");
  document.getElementById("cache-pops").replaceChildren(...body.pops.map((p) => card(`POP ${p.pop}`, p.objects.length ? table([
    { title: "Path", cell: (o) => h("code", null, o.path) }, { title: "Status", num: true, cell: (o) => o.status }, { title: "Size", num: true, cell: (o) => o.size },
    { title: "Age", num: true, cell: (o) => `${o.age_s} s` }, { title: "TTL left", num: true, cell: (o) => `${o.ttl_left_s.toFixed(0)} s`, cls: (o) => o.fresh ? "" : "stale" },
    { title: "Cache key", cell: (o) => h("code", null, o.key) }], p.objects, () => ({ class: "cache-object" })) : h("p", { class: "muted cache-empty" }, "empty"))));
}

// -- Distribution -----------------------------------------------------------------------------
async function showDistribution() {
  const { body: d } = await api("/inspector/api/distribution");
  const policy = (p) => p ? p.name : "—";
  render(h("div", null, h("h2", null, "Distribution"),
    (d.warnings.length || d.load_errors.length) ? card("Start-up warnings", [...d.load_errors, ...d.warnings].map((w) => message(w, true))) : null,
    card("Settings", kv([["config", d.config], ["domain name", d.domain_name], ["aliases", d.aliases.join(", ")], ["POPs", d.pops.join(", ")], ["default root object", d.default_root_object]])),
    card("Behaviours (in match order)", table([
      { title: "#", num: true, cell: (b) => b.order }, { title: "Path pattern", cell: (b) => h("code", null, b.path) }, { title: "Origin", cell: (b) => b.origin },
      { title: "Viewer request", cell: (b) => b.viewer_request || "—" }, { title: "Viewer response", cell: (b) => b.viewer_response || "—" },
      { title: "Cache policy", cell: (b) => policy(b.cache_policy) }, { title: "Origin request policy", cell: (b) => policy(b.origin_request_policy) },
      { title: "Response headers policy", cell: (b) => policy(b.response_headers_policy) }, { title: "Methods", cell: (b) => b.allowed_methods.join(" ") },
      { title: "Protocol", cell: (b) => b.viewer_protocol_policy }], d.behaviors)),
    card("Origins", table([{ title: "Id", cell: (o) => o.id }, { title: "URL", cell: (o) => h("code", null, o.url + (o.origin_path || "")) },
      { title: "Served locally by", cell: (o) => o.local ? h("code", null, o.local.directory || o.local.url) : "—" }, { title: "S3", cell: (o) => o.s3 ? "yes" : "" }], d.origins)),
    d.origin_groups.length ? card("Origin groups", pretty(d.origin_groups)) : null,
    card("Functions", table([{ title: "Name", cell: (f) => f.name }, { title: "File", cell: (f) => h("code", null, f.file) }, { title: "Runtime", cell: (f) => f.runtime }, { title: "KVS", cell: (f) => f.kvs || "—" }, { title: "Compat", cell: (f) => f.compat }], d.functions)),
    card("Custom error responses, geo restriction, throttling", pretty({ custom_error_responses: d.custom_error_responses, geo_restriction: d.geo_restriction, throttling: d.throttling }))));
}

// -- start --------------------------------------------------------------------------------------
async function start() {
  try {
    const { body: info } = await api("/inspector/api/info");
    state.info = info; state.pops = info.pops;
    const { body } = await api("/inspector/api/flows?limit=1000");
    addFlows(body.flows);
    state.last = body.last;
  } catch (error) { render(message(error.message, true)); }
  connect();
  window.addEventListener("hashchange", route);
  await route();
}

start();
