/* gridline's stand-in for the jQuery, Bootstrap and bootstrap-table scripts the Data Docs load from CDNs:
   just enough for tabs, collapsible panels and the small toggles in the pages' inline scripts.
   The index tables are rendered to plain HTML beforehand (expectations/offline_docs.py). */
(function () {
  function wrap(nodes) {
    var api = {
      nodes: nodes,
      ready: function (fn) {
        if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
        return api;
      },
      on: function (event, selectorOrFn, maybeFn) {
        var fn = typeof selectorOrFn === "function" ? selectorOrFn : maybeFn;
        nodes.forEach(function (n) { n.addEventListener(String(event).split(".")[0], fn); });
        return api;
      },
      fadeIn: function () { nodes.forEach(function (n) { n.style.display = ""; }); return api; },
      fadeOut: function () { nodes.forEach(function (n) { n.style.display = "none"; }); return api; },
      parent: function () { return wrap(nodes.map(function (n) { return n.parentElement; }).filter(Boolean)); },
      addClass: function (c) { nodes.forEach(function (n) { n.classList.add(c); }); return api; },
      removeClass: function (c) { nodes.forEach(function (n) { n.classList.remove(c); }); return api; },
      modal: function () { return api; },
      bootstrapTable: function () { return api; }
    };
    return api;
  }
  window.$ = window.jQuery = function (selector) {
    if (typeof selector === "function") return wrap([document]).ready(selector);
    if (typeof selector === "string") {
      try { return wrap(Array.prototype.slice.call(document.querySelectorAll(selector))); }
      catch (e) { return wrap([]); }
    }
    return wrap(selector ? [selector] : []);
  };
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-toggle]");
    if (toggle) {
      var kind = toggle.getAttribute("data-toggle");
      var target = toggle.getAttribute("data-target") || toggle.getAttribute("href");
      if (kind === "tab" && target) {
        event.preventDefault();
        var list = toggle.closest(".nav");
        if (list) list.querySelectorAll(".nav-link").forEach(function (l) { l.classList.remove("active"); });
        toggle.classList.add("active");
        var pane = document.querySelector(target);
        if (pane) {
          Array.prototype.forEach.call(pane.parentElement.children, function (p) { p.classList.remove("active", "show"); });
          pane.classList.add("active", "show");
        }
        return;
      }
      if (kind === "collapse" && target) {
        event.preventDefault();
        document.querySelectorAll(target).forEach(function (p) { p.classList.toggle("show"); });
        return;
      }
    }
    var row = event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a")) window.location.href = row.getAttribute("data-href");
  });
})();
