/* The causal chain of one seed, as a graph: pure functions (no DOM), shared by the
 * dashboard (window.ChariotsChain) and its unit test (require). */
(function (root) {
  'use strict';
  var MASK = (1n << 64n) - 1n;
  var OFFSET = 0xcbf29ce484222325n;
  var PRIME = 0x100000001b3n;

  /** FNV-1a 64 over the UTF-8 bytes of key + ":" + value, as a decimal string (SPEC §1). */
  function hashTag(key, value) {
    var bytes = new TextEncoder().encode(key + ':' + value);
    var h = OFFSET;
    for (var i = 0; i < bytes.length; i++) h = ((h ^ BigInt(bytes[i])) * PRIME) & MASK;
    return h.toString();
  }

  /**
   * Nodes in LId order and the edges prerequisite -> dependent. A prehash edge starts at
   * the first record (lowest LId) carrying a tag with that hash, since that is the one that
   * let the dependent in; a prerequisite outside `records` is listed in `missing`.
   */
  function buildChain(records) {
    var nodes = records.slice().sort(function (a, b) {
      return a.lid - b.lid;
    });
    var firstByHash = new Map();
    var byId = new Map();
    var byOrigin = new Map();
    nodes.forEach(function (r) {
      Object.keys(r.tags || {}).forEach(function (k) {
        var h = hashTag(k, r.tags[k]);
        if (!firstByHash.has(h)) firstByHash.set(h, r);
      });
      byId.set(r.id, r);
      byOrigin.set(r.host + '/' + r.toid, r);
    });
    var edges = [];
    var missing = [];
    nodes.forEach(function (r) {
      var add = function (from, kind, what) {
        if (from && from.lid < r.lid) edges.push({ from: from.lid, to: r.lid, kind: kind });
        else missing.push({ to: r.lid, kind: kind, what: what });
      };
      (r.prehash || []).forEach(function (h) {
        if (h !== '0') add(firstByHash.get(h), 'prehash', h);
      });
      (r.parent || []).forEach(function (id) {
        add(byId.get(id), 'parent', id);
      });
      if (r.pretoid !== undefined && r.pretoid !== null)
        add(byOrigin.get(r.prehost + '/' + r.pretoid), 'toid', r.prehost + '/' + r.pretoid);
    });
    return { nodes: nodes, edges: edges, missing: missing };
  }

  var api = { hashTag: hashTag, buildChain: buildChain };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.ChariotsChain = api;
})(typeof self !== 'undefined' ? self : this);
