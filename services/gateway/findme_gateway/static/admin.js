// /admin/performance: polls /admin/performance/data (cumulative counters and current
// gauges of every service), turns two consecutive snapshots into rates, percentiles
// and ratios, and draws the last few minutes with uPlot.
"use strict";

const POLL_MS = 2000;
const KEEP_POINTS = 180; // six minutes
const TOP_ENDPOINTS = 6;
const TOP_STATEMENTS = 5;
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"];

const times = [];
const charts = {}; // id -> { names: [...], values: {name: [...]}, plot }
let previous = null;

// The q-quantile (0..1) of a histogram's bucket counts {le: cumulative count}, as
// Prometheus's histogram_quantile does it (linear within the bucket).
function quantile(q, buckets) {
  const bounds = Object.keys(buckets)
    .map((le) => [le === "+Inf" ? Infinity : parseFloat(le), buckets[le]])
    .sort((a, b) => a[0] - b[0]);
  if (!bounds.length) return null;
  const total = bounds[bounds.length - 1][1];
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [upper, count] of bounds) {
    if (count >= rank) {
      if (upper === Infinity) return lower;
      return lower + (upper - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    }
    lower = upper;
    below = count;
  }
  return lower;
}

function bucketDelta(now, before) {
  const delta = {};
  for (const [le, count] of Object.entries(now || {})) {
    delta[le] = count - ((before || {})[le] || 0);
  }
  return delta;
}

const ms = (seconds) => (seconds === null ? null : Math.round(seconds * 10000) / 10);
const ratio = (part, whole) => (whole > 0 ? (100 * part) / whole : null);

// Every chart's values for the interval between two snapshots: {chart: {series: value}}.
function figures(now, before) {
  const dt = Math.max(now.time - before.time, 1e-3);
  const routes = Object.entries(now.routes).map(([route, entry]) => {
    const old = before.routes[route] || {};
    return {
      route,
      total: entry.count,
      count: entry.count - (old.count || 0),
      errors: entry.errors - (old.errors || 0),
      refused: entry.refused - (old.refused || 0),
      buckets: bucketDelta(entry.buckets, old.buckets),
    };
  });
  const busiest = [...routes].sort((a, b) => b.total - a.total).slice(0, TOP_ENDPOINTS);
  const all = {};
  let count = 0;
  let errors = 0;
  let refused = 0;
  for (const r of routes) {
    count += r.count;
    errors += r.errors;
    refused += r.refused;
    for (const [le, n] of Object.entries(r.buckets)) all[le] = (all[le] || 0) + n;
  }
  const byEndpoint = {};
  for (const r of busiest) byEndpoint[r.route] = r.count > 0 ? ms(quantile(0.95, r.buckets)) : null;

  const hits = now.cache.hit - before.cache.hit;
  const loads = now.cache.load - before.cache.load;

  const saturation = {};
  const queues = {};
  for (const [pool, p] of Object.entries(now.pools)) {
    saturation[pool] = ratio(p.busy, p.workers);
    queues[`${pool} jobs`] = p.queued;
  }
  saturation["database pool"] = ratio(now.database.in_use, now.database.size);
  queues["photos pending"] = now.photos.pending;

  const statements = Object.entries(now.statements)
    .filter(([, s]) => s.count > 0)
    .map(([name, s]) => ({ name, mean: s.sum / s.count }))
    .sort((a, b) => b.mean - a.mean)
    .slice(0, TOP_STATEMENTS);
  const slowest = {};
  for (const { name, mean } of statements) {
    const old = before.statements[name] || { count: 0, sum: 0 };
    const n = now.statements[name].count - old.count;
    slowest[name] = ms(n > 0 ? (now.statements[name].sum - old.sum) / n : mean);
  }

  return {
    "latency-by-endpoint": byEndpoint,
    "latency-percentiles": count > 0
      ? { p50: ms(quantile(0.5, all)), p95: ms(quantile(0.95, all)), p99: ms(quantile(0.99, all)) }
      : { p50: null, p95: null, p99: null },
    throughput: { "requests/s": count / dt, "refused/s": refused / dt },
    "error-rate": { "5xx %": count > 0 ? ratio(errors, count) : 0, "429/503 %": count > 0 ? ratio(refused, count) : 0 },
    "cache-hit-ratio": { "hit %": ratio(hits, hits + loads) },
    saturation,
    "queue-depth": queues,
    "photo-queue": {
      pending: now.photos.pending,
      processing: now.photos.processing,
      "done/min": ((now.photos.done - before.photos.done) * 60) / dt,
      "failed/min": ((now.photos.failed - before.photos.failed) * 60) / dt,
    },
    "photo-age": { "oldest pending": now.photos.oldest_pending_seconds },
    "slowest-statements": slowest,
  };
}

function chartOptions(element, names) {
  return {
    width: Math.max(element.clientWidth - 16, 300),
    height: 220,
    title: element.dataset.title,
    scales: { x: { time: true } },
    axes: [{}, { label: element.dataset.unit, size: 60 }],
    series: [{}, ...names.map((label, i) => ({
      label,
      stroke: COLORS[i % COLORS.length],
      width: 2,
      spanGaps: true,
    }))],
  };
}

function draw(id, values) {
  const element = document.getElementById(id);
  let chart = charts[id];
  if (!chart) chart = charts[id] = { names: [], values: {}, plot: null };
  const fresh = Object.keys(values).filter((name) => !chart.names.includes(name));
  for (const name of fresh) {
    chart.names.push(name);
    chart.values[name] = new Array(times.length - 1).fill(null);
  }
  for (const name of chart.names) {
    const value = values[name];
    chart.values[name].push(value === undefined || Number.isNaN(value) ? null : value);
    if (chart.values[name].length > times.length) chart.values[name].shift();
  }
  const data = [times.slice(), ...chart.names.map((name) => chart.values[name].slice())];
  const hasData = data.slice(1).some((line) => line.some((v) => v !== null));
  element.classList.toggle("empty", !hasData);
  element.dataset.points = String(data.slice(1).reduce(
    (n, line) => n + line.filter((v) => v !== null).length, 0));
  if (chart.plot && !fresh.length) {
    chart.plot.setData(data);
    return;
  }
  if (chart.plot) chart.plot.destroy();
  chart.plot = new uPlot(chartOptions(element, chart.names), data, element);
}

function showInstances(instances) {
  const parts = Object.entries(instances).map(([service, n]) => `${service}: ${n}`);
  document.getElementById("instances").textContent = `Instances answering — ${parts.join(", ")}`;
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/admin/performance/data", { cache: "no-store" });
    if (response.status === 404) {
      setStatus(status, "Your operator session ended. Log in again at /admin/login.", "bad");
      return;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const now = await response.json();
    showInstances(now.instances);
    if (previous) {
      times.push(now.time);
      if (times.length > KEEP_POINTS) times.shift();
      for (const [id, values] of Object.entries(figures(now, previous))) draw(id, values);
      setStatus(status, `Updated ${new Date(now.time * 1000).toLocaleTimeString()}`, "good");
    }
    previous = now;
  } catch (err) {
    setStatus(status, `Figures not updated: ${err.message}`, "bad");
  }
  setTimeout(poll, POLL_MS);
}

function setStatus(element, text, kind) {
  element.textContent = text;
  element.className = "status" + (kind ? ` ${kind}` : "");
}

poll();
