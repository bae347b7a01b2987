/*
 * controlroom.js: the browser snippet of controlroom's tracking API (the Python SDK's calls).
 *
 *   <script src="https://<webhooks function URL>/v1/controlroom.js"></script>
 *   <script>
 *     controlroom.init("<browser tracking key>");   // the host defaults to the script's own
 *     controlroom.identify("user-42", {plan: "free"});
 *     controlroom.track("Viewed Pricing", {item_id: "pro"});
 *     controlroom.recommendations("user-42").then(function (r) { ... });
 *     controlroom.content({product: "the pro plan", audience: "teams", channel: "social"})
 *   </script>
 *
 * track and identify only enqueue: every item gets a random message_id (so a batch sent twice
 * is counted once) and goes to POST /v1/batch in batches of up to batchSize, every
 * flushIntervalMs at the latest, and when the page is hidden or left (fetch keepalive, which,
 * unlike sendBeacon, can carry the Authorization header). Before identify, events carry an
 * anonymous id kept in localStorage.
 *
 * Failures, per batch: 429 waits Retry-After (at most maxRetryWaitMs, else the batch is
 * dropped: the daily quota is spent); 5xx and network errors back off exponentially with
 * jitter, up to maxAttempts sends; other 4xx drop the batch at once. The queue is bounded
 * (maxQueueSize): when full, new items are dropped. controlroom.stats counts what happened.
 * The key is a browser key: it can only send events, read recommendations and ask for copy.
 */
(function (global) {
  "use strict";

  var LIBRARY = { name: "controlroom-js", version: "0.1" };
  var STORAGE_KEY = "controlroom.anonymous_id";
  var script = global.document && global.document.currentScript;
  var defaultHost = script && script.src ? new URL(script.src).origin : "";

  var config = null;
  var queue = [];
  var sending = false;
  var timer = null;
  var userId = null;
  var stats = { enqueued: 0, sent: 0, dropped: 0, retries: 0, batches: 0 };

  function uuid() {
    if (global.crypto && global.crypto.randomUUID) return global.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }

  function anonymousId() {
    try {
      var id = global.localStorage.getItem(STORAGE_KEY);
      if (!id) {
        id = uuid();
        global.localStorage.setItem(STORAGE_KEY, id);
      }
      return id;
    } catch (e) {
      anonymousId.fallback = anonymousId.fallback || uuid();
      return anonymousId.fallback;
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function headers() {
    return { "Authorization": "Bearer " + config.key, "Content-Type": "application/json" };
  }

  function enqueue(item) {
    if (!config) throw new Error("controlroom.init(key) must be called first");
    if (queue.length >= config.maxQueueSize) {
      stats.dropped += 1;
      return null;
    }
    item.message_id = uuid();
    item.timestamp = new Date().toISOString();
    item.context = { library: LIBRARY, page: { path: global.location.pathname } };
    queue.push(item);
    stats.enqueued += 1;
    if (queue.length >= config.batchSize) flush();
    else if (!timer) timer = setTimeout(flush, config.flushIntervalMs);
    return item.message_id;
  }

  function sendBatch(batch, keepalive) {
    var body = JSON.stringify({ batch: batch });
    var attempt = 0;
    function once() {
      attempt += 1;
      return global.fetch(config.host + "/v1/batch", {
        method: "POST", headers: headers(), body: body, keepalive: keepalive, mode: "cors"
      }).then(function (response) {
        if (response.ok) return true;
        if (response.status === 429) {
          var wait = 1000 * Number(response.headers.get("Retry-After") || 1);
          if (wait > config.maxRetryWaitMs || attempt >= config.maxAttempts) return false;
          stats.retries += 1;
          return sleep(wait).then(once);
        }
        if (response.status >= 500) return retryLater();
        return false;  // another 4xx: sending it again cannot help
      }, retryLater);
    }
    function retryLater() {
      if (attempt >= config.maxAttempts) return false;
      stats.retries += 1;
      var backoff = Math.min(config.maxBackoffMs, 250 * Math.pow(2, attempt - 1));
      return sleep(backoff / 2 + Math.random() * backoff / 2).then(once);
    }
    return once().then(function (delivered) {
      stats.batches += 1;
      if (delivered) stats.sent += batch.length;
      else stats.dropped += batch.length;
      return delivered;
    });
  }

  /** Send everything queued now; resolves once the queue is empty (or its batches dropped). */
  function flush(keepalive) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (sending && !keepalive) return sending;
    var drain = function () {
      if (!queue.length) return Promise.resolve();
      var batch = queue.splice(0, config.batchSize);
      return sendBatch(batch, !!keepalive).then(drain);
    };
    var run = drain().then(function () { sending = false; });
    if (!keepalive) sending = run;
    return run;
  }

  var controlroom = {
    stats: stats,

    /** Configure the key (and optionally host, batchSize, flushIntervalMs, ...). */
    init: function (key, options) {
      options = options || {};
      config = {
        key: key,
        host: (options.host || defaultHost).replace(/\/$/, ""),
        batchSize: options.batchSize || 50,
        flushIntervalMs: options.flushIntervalMs || 2000,
        maxQueueSize: options.maxQueueSize || 1000,
        maxAttempts: options.maxAttempts || 5,
        maxBackoffMs: options.maxBackoffMs || 10000,
        maxRetryWaitMs: options.maxRetryWaitMs || 60000
      };
      return controlroom;
    },

    /** Queue an event by the identified user (or the anonymous visitor); its message_id. */
    track: function (event, properties) {
      var item = { type: "track", event: event, properties: properties || {} };
      if (userId) item.user_id = userId;
      item.anonymous_id = anonymousId();
      return enqueue(item);
    },

    /** Say who the visitor is; later events carry the user id. */
    identify: function (id, traits) {
      userId = String(id);
      return enqueue({
        type: "identify", user_id: userId, anonymous_id: anonymousId(), traits: traits || {}
      });
    },

    /** What to show the user: {strategy, items: [...]} from GET /v1/recommendations/{id}. */
    recommendations: function (id, limit) {
      var url = config.host + "/v1/recommendations/" + encodeURIComponent(id || userId) +
        (limit ? "?limit=" + limit : "");
      return global.fetch(url, { headers: headers(), mode: "cors" }).then(function (response) {
        if (!response.ok) throw new Error("recommendations: HTTP " + response.status);
        return response.json();
      });
    },

    /** Copy variants from a brief ({product, audience, channel, tone, variants}): POST /v1/content. */
    content: function (brief) {
      var request = { method: "POST", headers: headers(), mode: "cors", body: JSON.stringify(brief) };
      return global.fetch(config.host + "/v1/content", request).then(function (response) {
        if (!response.ok) throw new Error("content: HTTP " + response.status);
        return response.json();
      });
    },

    flush: function () { return flush(false); }
  };

  if (global.addEventListener) {
    global.addEventListener("pagehide", function () { if (config) flush(true); });
    global.document.addEventListener("visibilitychange", function () {
      if (config && global.document.visibilityState === "hidden") flush(true);
    });
  }
  global.controlroom = controlroom;
})(window);
