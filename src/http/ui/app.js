/* The dashboard: polls the batcher's own API (same origin) and draws what it gets. Every
 * request carries the token typed in the header field, if any; a panel whose call fails
 * says why (no read API here, missing role, …) and the others go on. */
(function () {
  'use strict';
  var TAIL_ROWS = 50;
  var SVG = 'http://www.w3.org/2000/svg';
  var tokenInput = document.getElementById('token');
  tokenInput.value = localStorage.getItem('chariots.token') || '';
  tokenInput.addEventListener('change', function () {
    localStorage.setItem('chariots.token', tokenInput.value.trim());
  });

  function api(path) {
    var token = tokenInput.value.trim();
    var headers = token ? { authorization: 'Bearer ' + token } : {};
    return fetch(path, { headers: headers }).then(function (res) {
      return res.json().then(
        function (body) {
          if (res.ok) return body;
          var e = (body && body.error) || {};
          throw new Error((e.code || res.status) + ': ' + (e.message || res.statusText));
        },
        function () {
          throw new Error(res.status + ' ' + res.statusText);
        },
      );
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function note(id, msg) {
    document.getElementById(id).textContent = msg || '';
  }
  function prerequisites(r) {
    var p = (r.prehash || []).filter(function (h) {
      return h !== '0';
    });
    var out = p.map(function (h) {
      return '#' + h;
    });
    (r.parent || []).forEach(function (id) {
      out.push('id ' + id);
    });
    if (r.pretoid !== undefined) out.push('dc' + r.prehost + '/' + r.pretoid);
    return out.join(', ');
  }
  function tagText(tags) {
    return Object.keys(tags || {})
      .map(function (k) {
        return k + '=' + tags[k];
      })
      .join(' ');
  }

  // ---- tail: starts at the last TAIL_ROWS records, then asks for what follows.
  var nextLid = 0;
  var tailBody = document.querySelector('#tail tbody');
  function addRow(r) {
    var tr = el('tr');
    tr.dataset.lid = r.lid;
    tr.appendChild(el('td', r.lid));
    var seed = el('td', r.seed, 'seed');
    seed.title = 'draw this causal chain';
    seed.addEventListener('click', function () {
      document.getElementById('seed').value = r.seed;
      drawChain(r.seed);
    });
    tr.appendChild(seed);
    tr.appendChild(el('td', tagText(r.tags)));
    tr.appendChild(el('td', prerequisites(r)));
    tr.appendChild(el('td', r.id));
    tr.appendChild(el('td', r.appendedAt));
    tailBody.insertBefore(tr, tailBody.firstChild);
    while (tailBody.children.length > TAIL_ROWS) tailBody.removeChild(tailBody.lastChild);
  }
  function pollTail() {
    var start = nextLid
      ? Promise.resolve(nextLid)
      : api('/log/head').then(function (h) {
          return Math.max(1, h.lid - TAIL_ROWS + 1);
        });
    return start
      .then(function (from) {
        return api('/log?from=' + from + '&limit=' + 200).then(function (page) {
          page.records.forEach(addRow);
          nextLid = page.records.length ? page.records[page.records.length - 1].lid + 1 : from;
          document.getElementById('head').textContent = 'up to LId ' + (nextLid - 1);
          note('tail-note', '');
        });
      })
      .catch(function (e) {
        note('tail-note', e.message);
      });
  }

  // ---- stages: the admin view (lag, instances) and this process's readiness.
  function pollStages() {
    var ready = api('/readyz').catch(function (e) {
      return { ready: false, checks: {}, error: e.message };
    });
    var view = api('/admin/view').catch(function (e) {
      note('stages-note', 'admin view: ' + e.message);
      return null;
    });
    return Promise.all([ready, view]).then(function (res) {
      var r = res[0];
      var v = res[1];
      var badge = document.getElementById('ready');
      badge.textContent = r.ready ? 'ready' : 'not ready';
      badge.className = 'badge ' + (r.ready ? 'ok' : 'bad');
      if (v) note('stages-note', '');
      var body = document.querySelector('#stages tbody');
      body.textContent = '';
      var names = Object.keys((v && v.stages) || {});
      Object.keys(r.checks || {}).forEach(function (c) {
        if (names.indexOf(c) < 0) names.push(c);
      });
      names.forEach(function (name) {
        var s = (v && v.stages[name]) || null;
        var tr = el('tr');
        tr.dataset.stage = name;
        tr.appendChild(el('td', name));
        tr.appendChild(el('td', s ? s.instances.length : '–'));
        tr.appendChild(el('td', s ? s.lag : '–'));
        var c = r.checks ? r.checks[name] : undefined;
        tr.appendChild(el('td', c === undefined ? '' : c ? 'yes' : 'NO'));
        body.appendChild(tr);
      });
    });
  }

  // ---- deferred and dead letters.
  function pollList(kind) {
    return api('/' + kind + '?limit=50')
      .then(function (page) {
        document.getElementById(kind + '-count').textContent = '(' + page.count + ')';
        var ul = document.getElementById(kind);
        ul.textContent = '';
        page[kind].forEach(function (e) {
          var why =
            kind === 'deferred' ? 'waits for ' + e.missing.join(', ') : e.code + ' ' + e.reason;
          ul.appendChild(el('li', e.id + ': ' + why));
        });
      })
      .catch(function (e) {
        document.getElementById(kind + '-count').textContent = e.message;
      });
  }

  // ---- the causal chain of one seed, drawn as SVG: nodes left to right in LId order,
  // an arc from each prerequisite to its dependent.
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) {
      e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function drawChain(seed) {
    var all = [];
    function page(after) {
      return api('/records?seed=' + encodeURIComponent(seed) + '&limit=1000&after=' + after).then(
        function (p) {
          all = all.concat(p.records);
          if (p.next && all.length < 5000) return page(p.next);
        },
      );
    }
    return page(0)
      .then(function () {
        var g = window.ChariotsChain.buildChain(all);
        var root = document.getElementById('chain');
        root.textContent = '';
        var STEP = 130;
        var Y = 150;
        var width = Math.max(300, g.nodes.length * STEP + 60);
        root.setAttribute('width', width);
        root.setAttribute('height', 200);
        root.setAttribute('data-seed', seed);
        var defs = svg('defs', {});
        var marker = svg('marker', {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 10,
          refY: 5,
          markerWidth: 6,
          markerHeight: 6,
          orient: 'auto-start-reverse',
        });
        marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#555' }));
        defs.appendChild(marker);
        root.appendChild(defs);
        var x = {};
        g.nodes.forEach(function (r, i) {
          x[r.lid] = 60 + i * STEP;
        });
        g.edges.forEach(function (e) {
          var x1 = x[e.from];
          var x2 = x[e.to];
          var lift = Math.min(120, 30 + (x2 - x1) / 4);
          var d = 'M ' + x1 + ' ' + (Y - 18) + ' Q ' + (x1 + x2) / 2 + ' ' + (Y - 18 - lift * 2);
          d += ' ' + x2 + ' ' + (Y - 18);
          root.appendChild(
            svg('path', { d: d, class: 'edge ' + e.kind, 'data-from': e.from, 'data-to': e.to }),
          );
        });
        g.nodes.forEach(function (r) {
          var n = svg('g', { class: 'node', 'data-lid': r.lid, 'data-id': r.id });
          n.appendChild(svg('circle', { cx: x[r.lid], cy: Y, r: 16 }));
          n.appendChild(svg('text', { x: x[r.lid], y: Y + 4, fill: '#fff' }, r.lid));
          n.appendChild(svg('text', { x: x[r.lid], y: Y + 34 }, tagText(r.tags).slice(0, 22)));
          n.appendChild(svg('title', {}, r.id + '\n' + tagText(r.tags)));
          root.appendChild(n);
        });
        var msg = g.nodes.length + ' records, ' + g.edges.length + ' causal edges';
        if (g.missing.length) msg += '; ' + g.missing.length + ' prerequisites outside this seed';
        note('chain-note', msg);
      })
      .catch(function (e) {
        note('chain-note', e.message);
      });
  }
  document.getElementById('chain-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    drawChain(document.getElementById('seed').value.trim());
  });

  // Each loop waits for its previous round: a slow server is never asked twice at once.
  function every(ms, f) {
    var run = function () {
      f().then(function () {
        setTimeout(run, ms);
      });
    };
    run();
  }
  every(1000, pollTail);
  every(2000, pollStages);
  every(2000, function () {
    return Promise.all([pollList('deferred'), pollList('deadletter')]);
  });
  // The drawn chain follows new records of its seed too.
  every(2000, function () {
    var seed = document.getElementById('chain').getAttribute('data-seed');
    return seed ? drawChain(seed) : Promise.resolve();
  });
})();
