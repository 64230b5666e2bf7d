// The otlp4j relay dashboard: polls /api/v1/series (incrementally: since the last timestamp, and
// without the series' names while their layout is unchanged) and draws each panel with uPlot.
// Plain JavaScript, no build step; every file comes from the relay.
(function () {
  'use strict';

  var SIGNAL_OUTCOMES = ['accepted', 'refused', 'sent', 'failed', 'enqueue_failed', 'dropped'];
  var CIRCUIT = ['closed', 'half-open', 'open'];
  var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
    '#17becf', '#7f7f7f', '#bcbd22'];

  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(2) + 'G';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100 || v === Math.round(v)) return v.toFixed(0);
    return v.toFixed(digits === undefined ? 2 : digits);
  }
  function bytes(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ' + units[i];
  }
  function seconds(v) {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (v < 1e-3) return (v * 1e6).toFixed(0) + ' µs';
    if (v < 1) return (v * 1e3).toFixed(v < 0.01 ? 2 : 1) + ' ms';
    return v.toFixed(v < 10 ? 2 : 0) + ' s';
  }
  function percent(v) {
    return v === null || v === undefined || !isFinite(v) ? '–' : (v * 100).toFixed(1) + ' %';
  }
  function perSecond(v) { return num(v) + '/s'; }
  function circuit(v) {
    return v === null || v === undefined ? '–' : (CIRCUIT[v] || '?') + ' (' + v + ')';
  }
  function percentOf100(v) {
    return v === null || v === undefined || !isFinite(v) ? '–' : v.toFixed(v < 10 ? 1 : 0) + ' %';
  }
  // One line per queue: size / capacity in percent (a memory queue counts requests, a durable
  // one bytes), and "size / capacity" in the stat line.
  function queueLines(chosen) {
    var durable = {};
    state.series.forEach(function (s) {
      if (s.name === 'durable_queue_bytes') durable[s.labels.queue] = true;
    });
    var byQueue = {};
    chosen.forEach(function (s) {
      var id = JSON.stringify(s.labels);
      byQueue[id] = byQueue[id] || { labels: s.labels };
      byQueue[id][s.name === 'exporter_queue_size' ? 'size' : 'capacity'] = s;
    });
    return Object.keys(byQueue).sort().filter(function (id) { return byQueue[id].size; }).map(function (id) {
      var q = byQueue[id];
      var cap = q.capacity ? q.capacity.v : [];
      var v = q.size.v.map(function (x, i) {
        return x === null || !cap[i] ? null : 100 * x / cap[i];
      });
      var name = queueName(q.labels);
      var size = lastValue(q.size.v);
      var capacity = q.capacity ? lastValue(q.capacity.v) : null;
      var unit = durable[q.labels.pipeline] ? bytes : num; // a durable queue counts bytes
      return {
        key: 'queue' + id, label: name, v: v,
        stat: name + ' <b>' + unit(size) + '</b> / ' + unit(capacity) + ' (' + percentOf100(lastValue(v)) + ')'
      };
    });
  }
  function queueName(l) {
    return [l.exporter, l.data_type || l.pipeline].filter(Boolean).join(' ');
  }

  function signalPanel(signal, title) {
    return {
      id: signal, title: title, format: perSecond,
      match: function (s) { return s.name === 'items_rate' && s.labels.signal === signal; },
      label: function (s) { return s.labels.outcome; },
      order: function (s) { return SIGNAL_OUTCOMES.indexOf(s.labels.outcome); }
    };
  }

  // One entry per panel of the issue; a panel whose series do not exist shows "no data".
  var PANELS = [
    signalPanel('traces', 'Traces: spans per second'),
    signalPanel('metrics', 'Metrics: data points per second'),
    signalPanel('logs', 'Logs: log records per second'),
    {
      id: 'exporter-queue', title: 'Exporter queue: size against capacity (% full)', format: percentOf100,
      match: function (s) { return s.name === 'exporter_queue_size' || s.name === 'exporter_queue_capacity'; },
      lines: queueLines, range: [0, 100]
    },
    {
      id: 'durable-bytes', title: 'Durable queue: bytes on disk and pending', format: bytes,
      match: function (s) { return s.name === 'durable_queue_bytes' || s.name === 'durable_queue_pending_bytes'; },
      label: function (s) {
        return s.name === 'durable_queue_bytes' ? 'on disk ' + s.labels.queue
          : 'pending ' + s.labels.queue + ' ' + s.labels.consumer;
      }
    },
    {
      id: 'durable-age', title: 'Durable queue: oldest record age', format: seconds,
      match: function (s) { return s.name === 'durable_queue_oldest_age_seconds'; },
      label: function (s) { return s.labels.queue + ' ' + s.labels.consumer; }
    },
    {
      id: 'circuit', title: 'Circuit breaker state (0 closed, 1 half-open, 2 open)', format: circuit,
      match: function (s) { return s.name === 'circuit_state'; },
      label: function (s) { return s.labels.exporter + ' ' + (s.labels.endpoint || ''); },
      range: [0, 2],
      axisFormat: function (v) { return CIRCUIT[v] || ''; }
    },
    {
      id: 'memory', title: 'Memory budget: used vs limit', format: bytes,
      match: function (s) { return s.name === 'memory_budget_used_bytes' || s.name === 'memory_budget_limit_bytes'; },
      label: function (s) { return s.name === 'memory_budget_used_bytes' ? 'used' : 'limit'; },
      dash: function (s) { return s.name === 'memory_budget_limit_bytes'; }
    },
    {
      id: 'cpu', title: 'Process CPU (100 % = one core)', format: percent,
      match: function (s) { return s.name === 'process_cpu_cores'; },
      label: function () { return 'cpu'; }
    },
    {
      id: 'process-memory', title: 'Process memory: RSS and heap', format: bytes,
      match: function (s) { return /^process_(rss|heap_used|heap_committed)_bytes$/.test(s.name); },
      label: function (s) { return s.name.replace(/^process_|_bytes$/g, '').replace('_', ' '); },
      order: function (s) { return ['process_rss_bytes', 'process_heap_committed_bytes', 'process_heap_used_bytes'].indexOf(s.name); }
    },
    {
      id: 'gc', title: 'Garbage collection: time share and collections per second', format: num,
      match: function (s) { return s.name === 'process_gc_time_ratio' || s.name === 'process_gc_per_second'; },
      label: function (s) { return s.name === 'process_gc_time_ratio' ? 'time %' : 'per second'; },
      scale: function (s, v) { return s.name === 'process_gc_time_ratio' && v !== null ? v * 100 : v; }
    },
    {
      id: 'ack-latency', title: 'Ack latency p50 / p99', format: seconds,
      match: function (s) { return s.name === 'ack_latency_seconds'; },
      label: function (s) {
        var l = s.labels;
        return l.stat + ' ' + [l.receiver, l.ack_mode, l.transport].filter(Boolean).join(' ');
      },
      order: function (s) { return s.labels.stat === 'p99' ? 1 : 0; }
    },
    {
      id: 'batch-size', title: 'Batch send size (items per request)', format: num,
      // mean and p99 per exporter and pipeline (p50 is in /api/v1/series too)
      match: function (s) { return s.name === 'batch_send_size' && s.labels.stat !== 'p50'; },
      label: function (s) {
        return s.labels.stat + ' ' + [s.labels.exporter, s.labels.pipeline].filter(Boolean).join(' ');
      },
      order: function (s) { return ['mean', 'p99'].indexOf(s.labels.stat); }
    }
  ];

  var state = { layout: -1, since: 0, intervalMs: 1000, windowMs: 900000, t: [], series: [] };
  var stats = { polls: 0, failures: 0, bytes: [], lastUpdate: 0 };
  var charts = {};

  function build() {
    var root = document.getElementById('panels');
    PANELS.forEach(function (p) {
      var el = document.createElement('section');
      el.className = 'panel';
      el.setAttribute('data-panel', p.id);
      var h = document.createElement('h2');
      h.textContent = p.title;
      var stat = document.createElement('div');
      stat.className = 'stat';
      var chart = document.createElement('div');
      chart.className = 'chart';
      el.appendChild(h);
      el.appendChild(stat);
      el.appendChild(chart);
      root.appendChild(el);
      p.statEl = stat;
      p.chartEl = chart;
    });
  }

  function lastValue(v) {
    for (var i = v.length - 1; i >= 0 && i >= v.length - 3; i--) {
      if (v[i] !== null) return v[i];
    }
    return null;
  }

  function renderPanel(p) {
    var chosen = state.series.filter(p.match);
    if (p.order) {
      chosen.sort(function (a, b) { return p.order(a) - p.order(b); });
    }
    if (chosen.length === 0) {
      p.statEl.textContent = 'no data (the relay has no such series)';
      if (charts[p.id]) { charts[p.id].chart.destroy(); delete charts[p.id]; }
      return;
    }
    var lines = p.lines ? p.lines(chosen) : chosen.map(function (s) {
      var scale = p.scale || function (x, v) { return v; };
      var v = p.scale ? s.v.map(function (x) { return scale(s, x); }) : s.v;
      return {
        key: s.name + JSON.stringify(s.labels), label: p.label(s), v: v,
        dash: p.dash && p.dash(s), stat: p.label(s) + ' <b>' + p.format(lastValue(v)) + '</b>'
      };
    });
    p.statEl.innerHTML = lines.map(function (l) { return l.stat; }).join(' · ');
    var data = [state.t.map(function (t) { return t / 1000; })];
    lines.forEach(function (l) { data.push(l.v); });
    var key = lines.map(function (l) { return l.key; }).join('|');
    var c = charts[p.id];
    if (c && c.key === key) {
      c.chart.setData(data);
      return;
    }
    if (c) c.chart.destroy();
    var width = Math.max(300, p.chartEl.clientWidth || 400);
    var axisFormat = p.axisFormat || p.format;
    var opts = {
      width: width, height: 170,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: p.range ? { range: p.range } : {} },
      axes: [{ space: 90 }, { size: 84, values: function (u, vals) { return vals.map(axisFormat); } }],
      series: [{}].concat(lines.map(function (l, i) {
        return {
          label: l.label, stroke: COLORS[i % COLORS.length], width: 1.5,
          dash: l.dash ? [6, 4] : undefined, points: { show: false },
          value: function (u, v) { return p.format(v); }
        };
      }))
    };
    charts[p.id] = { key: key, chart: new uPlot(opts, data, p.chartEl) };
  }

  function renderAlerts() {
    var body = document.querySelector('#alerts-table tbody');
    var table = document.getElementById('alerts-table');
    var last = state.t.length - 1;
    var active = state.series.filter(function (s) {
      return s.name === 'alerts' && last >= 0 && s.v[last] !== null && s.v[last] > 0;
    });
    active.sort(function (a, b) {
      return (a.labels.alertstate === 'firing' ? 0 : 1) - (b.labels.alertstate === 'firing' ? 0 : 1)
        || String(a.labels.alertname).localeCompare(String(b.labels.alertname));
    });
    var firing = active.filter(function (s) { return s.labels.alertstate === 'firing'; }).length;
    document.getElementById('alerts-stat').innerHTML = active.length === 0
      ? 'No alert pending or firing <b>0</b>'
      : 'firing <b>' + firing + '</b> · pending <b>' + (active.length - firing) + '</b>';
    table.className = active.length ? 'some' : '';
    while (body.firstChild) body.removeChild(body.firstChild);
    active.forEach(function (s) {
      var tr = document.createElement('tr');
      var rest = Object.keys(s.labels).filter(function (k) {
        return ['alertname', 'alertstate', 'severity'].indexOf(k) < 0;
      }).map(function (k) { return k + '=' + s.labels[k]; }).join(', ');
      [s.labels.alertname, s.labels.alertstate, s.labels.severity || '', rest].forEach(function (text, i) {
        var td = document.createElement('td');
        td.textContent = text;
        if (i === 1) td.className = 'state-' + text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function apply(json) {
    state.intervalMs = json.interval_ms;
    state.windowMs = json.window_ms;
    if (json.full) {
      state.t = json.t.slice();
      state.series = json.series.map(function (s) { return { name: s.name, labels: s.labels, v: s.v.slice() }; });
    } else {
      Array.prototype.push.apply(state.t, json.t);
      json.v.forEach(function (v, i) { Array.prototype.push.apply(state.series[i].v, v); });
    }
    state.layout = json.layout;
    if (state.t.length) state.since = state.t[state.t.length - 1];
    var cut = 0;
    var oldest = state.since - state.windowMs;
    while (cut < state.t.length && state.t[cut] <= oldest) cut++;
    if (cut > 0) {
      state.t.splice(0, cut);
      state.series.forEach(function (s) { s.v.splice(0, cut); });
    }
  }

  function render() {
    PANELS.forEach(renderPanel);
    renderAlerts();
    var status = document.getElementById('status');
    status.className = '';
    status.textContent = 'updated ' + new Date(state.since).toLocaleTimeString() + ' · '
      + state.series.length + ' series';
    var cost = document.getElementById('cost');
    var b = bytesPerSeriesPerSecond();
    cost.textContent = b === null ? '' : 'polling ' + b.toFixed(1) + ' B per series per second';
  }

  // What the polling costs on the wire (headers and body of each response, from Resource Timing),
  // over the recent polls that were not a full reload.
  function bytesPerSeriesPerSecond() {
    if (stats.bytes.length < 2 || state.series.length === 0) return null;
    var first = stats.bytes[0];
    var lastEntry = stats.bytes[stats.bytes.length - 1];
    var total = 0;
    for (var i = 1; i < stats.bytes.length; i++) total += stats.bytes[i].size;
    var secondsSpan = (lastEntry.at - first.at) / 1000;
    return secondsSpan > 0 ? total / secondsSpan / state.series.length : null;
  }

  if (window.PerformanceObserver) {
    try {
      new PerformanceObserver(function (list) {
        list.getEntries().forEach(function (e) {
          if (e.name.indexOf('/api/v1/series') >= 0 && e.name.indexOf('layout=-1') < 0 && e.transferSize > 0) {
            stats.bytes.push({ at: e.responseEnd + performance.timeOrigin, size: e.transferSize });
            if (stats.bytes.length > 31) stats.bytes.shift();
          }
        });
      }).observe({ type: 'resource', buffered: false });
    } catch (e) { /* older browsers: no cost figure */ }
  }

  var timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, Math.max(1000, 2 * state.intervalMs));
  }

  function poll() {
    if (document.hidden) { schedule(); return; } // catches up through since when shown again
    var url = '/api/v1/series?since=' + state.since + '&layout=' + state.layout;
    fetch(url, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (json) {
      stats.polls++;
      stats.lastUpdate = Date.now();
      apply(json);
      render();
    }).catch(function (e) {
      stats.failures++;
      var status = document.getElementById('status');
      status.className = 'down';
      status.textContent = 'relay unreachable (' + e.message + '), retrying';
    }).then(schedule);
  }

  window.addEventListener('resize', function () {
    PANELS.forEach(function (p) {
      var c = charts[p.id];
      if (c) c.chart.setSize({ width: Math.max(300, p.chartEl.clientWidth || 400), height: 170 });
    });
  });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });

  window.otlp4jDashboard = {
    stats: stats, state: state, bytesPerSeriesPerSecond: bytesPerSeriesPerSecond
  };
  build();
  poll();
})();
