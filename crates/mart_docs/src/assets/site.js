// mart docs: search over the lazily loaded shards, and the lineage filter. No network:
// shards are plain script files beside the page, so this works from the file system.
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";

  // Search (index page): every shard is one string of "name\tkind\tfolder\tlink" lines.
  var list = document.getElementById("search-results");
  var input = document.querySelector("header .search input");
  var query = new URLSearchParams(window.location.search).get("q") || "";
  if (input) input.value = query;
  if (list && input) {
    var lines = [];
    var loaded = 0;
    var requested = false;
    var shards = parseInt(list.getAttribute("data-shards"), 10) || 0;
    var section = document.getElementById("search");
    var status = document.getElementById("search-status");
    var pending = false;
    window.martSearch = {
      // Shards arrive one by one: their lines are appended, and the results redrawn once
      // per burst of arrivals rather than once per shard.
      add: function (text) {
        Array.prototype.push.apply(lines, text.split("\n"));
        loaded += 1;
        if (!pending) {
          pending = true;
          setTimeout(function () { pending = false; run(); }, 0);
        }
      }
    };
    var load = function () {
      if (requested) return;
      requested = true;
      for (var i = 0; i < shards; i++) {
        var s = document.createElement("script");
        s.src = root + "search/" + i + ".js";
        document.body.appendChild(s);
      }
    };
    var run = function () {
      var q = input.value.trim().toLowerCase();
      section.hidden = q === "";
      if (q === "") return;
      load();
      var terms = q.split(/\s+/);
      var hits = [];
      for (var i = 0; i < lines.length; i++) {
        var f = lines[i].split("\t");
        var hay = (f[0] + " " + f[1] + " " + f[2]).toLowerCase();
        var ok = true;
        for (var t = 0; t < terms.length; t++) {
          if (hay.indexOf(terms[t]) < 0) { ok = false; break; }
        }
        if (ok) {
          var name = f[0].toLowerCase();
          var score = name === q ? 0 : name.indexOf(q) === 0 ? 1 : name.indexOf(q) >= 0 ? 2 : 3;
          hits.push([score, f]);
        }
      }
      hits.sort(function (a, b) { return a[0] - b[0] || (a[1][0] < b[1][0] ? -1 : a[1][0] > b[1][0] ? 1 : 0); });
      list.textContent = "";
      var shown = Math.min(hits.length, 200);
      for (var h = 0; h < shown; h++) {
        var fields = hits[h][1];
        var li = document.createElement("li");
        var kind = document.createElement("span");
        kind.className = "kind " + fields[1];
        kind.textContent = fields[1];
        var a = document.createElement("a");
        a.href = root + fields[3];
        a.textContent = fields[0];
        var where = document.createElement("span");
        where.className = "where";
        where.textContent = fields[2];
        li.appendChild(kind);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(a);
        li.appendChild(where);
        list.appendChild(li);
      }
      status.textContent = (loaded < shards ? "Loading… " : "") + hits.length + " match" +
        (hits.length === 1 ? "" : "es") + (hits.length > shown ? ", first " + shown + " shown" : "");
    };
    input.addEventListener("input", function () {
      var url = new URL(window.location.href);
      url.searchParams.set("q", input.value);
      window.history.replaceState(null, "", url.toString());
      run();
    });
    input.form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    run();
  }

  // Lineage filter: highlight boxes whose name contains the text, dim the others.
  var filter = document.getElementById("graph-filter");
  if (filter) {
    var boxes = document.querySelectorAll("svg.graph .n");
    var count = document.getElementById("graph-count");
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      var hits = 0;
      var first = null;
      for (var i = 0; i < boxes.length; i++) {
        var hit = q !== "" && boxes[i].getAttribute("data-name").indexOf(q) >= 0;
        boxes[i].classList.toggle("dim", q !== "" && !hit);
        boxes[i].classList.toggle("hit", hit);
        if (hit) { hits += 1; if (!first) first = boxes[i]; }
      }
      count.textContent = q === "" ? "" : hits + " of " + boxes.length + " boxes";
      if (first) first.scrollIntoView({ block: "center", inline: "center" });
    });
  }
  document.body.setAttribute("data-ready", "1");
})();
