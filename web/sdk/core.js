  // =====================================================================
  // sdk/core.js, part of crvideo.js (web/README.md), after head.js: the
  // error codes, small helpers, the callback objects, and the WebSocket with
  // its JSON-RPC (rpc, notify, call). It runs inside the scope head.js opens.

  // ---------------------------------------------------------------------
  // Error codes (CRVIDEOSDK_ERR_DEF), exported in both spellings.

  var ERR = {
    NOERR: 0, UNKNOWERR: 1, OUTOF_MEM: 2, INNER_ERR: 3, MISMATCHCLIENTVER: 4,
    PARAM_ERR: 5, ERR_DATA: 6, ANCTPSWD_ERR: 7, SERVER_EXCEPTION: 8,
    LOGINSTATE_ERROR: 9, USER_BEEN_KICKOUT: 10, NOT_INIT: 11, NOT_LOGIN: 12,
    CUSTOMAUTH_NOINFO: 14, CUSTOMAUTH_NOTSUPPORT: 15, CUSTOMAUTH_FAILED: 17,
    TOKEN_TIMEOUT: 18, TOKEN_AUTHINFOERR: 19, TOKEN_APPIDNOTEXIST: 20,
    TOKEN_AUTH_FAILED: 21, API_NO_PERMISSION: 23,
    NETWORK_INITFAILED: 200, NOSERVER_RSP: 202, CREATE_CONN_FAILED: 203,
    SOCKETEXCEPTION: 204, SOCKETTIMEOUT: 205, FORCEDCLOSECONNECTION: 206,
    CONNECTIONLOST: 207,
    INVALID_CALLID: 600, ERR_CALL_EXIST: 601, ERR_BUSY: 602, ERR_OFFLINE: 603,
    ERR_NOANSWER: 604, ERR_USER_NOT_FOUND: 605, ERR_REFUSE: 606,
    MEETNOTEXIST: 800, AUTHERROR: 801, MEMBEROVERFLOWERROR: 802,
    RESOURCEALLOCATEERROR: 803, MEETROOMLOCKED: 804, ALREADYLOGIN: 807,
    SENDFAIL: 1000, SENDCMD_LARGE: 1100, SENDBUFFER_LARGE: 1101,
    SENDDATA_TARGETINVALID: 1102, SENDFILE_FILEINERROR: 1103, TRANSID_INVALID: 1104,
    FILE_NOT_EXIST: 1400, FILE_READ_ERR: 1401, FILE_WRITE_ERR: 1402, FILE_SIZE_UNSUPPORT: 1405,
    QUEUE_ID_ERR: 400, QUEUE_NOUSER: 401, QUEUE_USERCANCELLED: 402,
    QUEUE_SERVICE_NOT_START: 403, QUEUE_ALREADYQUEUING: 404,
    MEDIA_PERMISSION_DENIED: 8002, BROWSER_NOT_SUPPORTED: 8004, MEDIA_OPEN_FAILED: 8007,
    NOT_IMPLEMENTED: 8100
  };
  Object.keys(ERR).forEach(function (k) {
    api['CRVIDEOSDK_' + k] = ERR[k];
    api['CRVideo_' + k] = ERR[k];
  });

  // Member audio (ASTATUS) and video (VSTATUS) states.
  var ST_CLOSED = 2, ST_OPEN = 3, ST_OPENING = 4;

  // ---------------------------------------------------------------------
  // Small helpers.

  function later(f) {
    Promise.resolve().then(f);
  }

  // report shows an exception thrown by the app's callback without breaking
  // the SDK's own work: it is rethrown on a fresh task (window.onerror sees it).
  function report(e) {
    setTimeout(function () { throw e; }, 0);
  }

  function warn() {
    if (typeof console !== 'undefined' && console.warn) {
      console.warn.apply(console, ['crvideo:'].concat(Array.prototype.slice.call(arguments)));
    }
  }

  function uuid() {
    var c = win.crypto || null;
    if (c && typeof c.randomUUID === 'function') {
      try { return c.randomUUID(); } catch (e) { /* insecure context: below */ }
    }
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) {
      c.getRandomValues(b);
    } else {
      for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // parsed returns v, parsed if it is a JSON string (apps written for older
  // SDKs pass objects as JSON text).
  function parsed(v) {
    if (typeof v === 'string') {
      try { return JSON.parse(v); } catch (e) { return null; }
    }
    return v;
  }

  function str(v) {
    return v === undefined || v === null ? '' : String(v);
  }

  // meetRef is what the node reads of a meeting object: its ID and password.
  function meetRef(meetObj) {
    var m = parsed(meetObj);
    if (!m || typeof m !== 'object') return undefined;
    var id = Number(m.ID !== undefined ? m.ID : m.meetID);
    if (!isFinite(id) || id <= 0) return undefined;
    return { ID: Math.floor(id), pswd: str(m.pswd) };
  }

  // codeOf is the CRVideo code of an error made by rpcError.
  function codeOf(err) {
    return err && err.crv ? err.code : ERR.UNKNOWERR;
  }

  function rpcError(code, message) {
    var e = new Error(message || ('crvideo error ' + code));
    e.code = code;
    e.crv = true;
    return e;
  }

  // ---------------------------------------------------------------------
  // Callback objects.

  /** One CRVideo callback: the app assigns its .callback. */
  function Callback(name) {
    this.name = name;
    this.callback = null;
  }

  var cbs = {};

  function defCallback(name, alias) {
    var o = cbs[name] || new Callback('CRVideo_' + name);
    cbs[name] = o;
    api['CRVideo_' + name] = o;
    if (alias) {
      cbs[alias] = o;
      api['CRVideo_' + alias] = o;
    }
  }

  [
    'LoginSuccess', 'LoginFail', 'LineOff', 'NetStateChanged',
    'SetDNDStatusSuccess', 'SetDNDStatusFail',
    'GetUserStatusSuccess', 'GetUserStatusFail', 'StartUserStatusNotifyRslt',
    'StopUserStatusNotifyRslt', 'NotifyUserStatus',
    'CreateMeetingSuccess', 'CreateMeetingFail', 'GetMeetingsSuccess', 'GetMeetingsFail',
    'EnterMeetingRslt', 'UserEnterMeeting', 'UserLeftMeeting', 'MeetingDropped', 'MeetingStopped',
    'CallSuccess', 'CallFail', 'AcceptCallSuccess', 'AcceptCallFail', 'RejectCallSuccess',
    'RejectCallFail', 'HangupCallSuccess', 'HangupCallFail', 'NotifyCallIn',
    'NotifyCallAccepted', 'NotifyCallRejected', 'NotifyCallHungup',
    'CallMorePartyRslt', 'CancelCallMorePartyRslt', 'NotifyCallMorePartyStatus',
    'ClientInviteRslt', 'ClientCancelInviteRslt', 'NotifyInviteStatus',
    'KickoutRslt', 'SendMeetingCustomMsgRslt', 'NotifyMeetingCustomMsg',
    'SendProgress', 'NotifyCmdData', 'NotifyBufferData', 'NotifyFileData', 'NotifyCancelSend',
    'AudioStatusChanged', 'VideoStatusChanged', 'MicEnergyUpdate',
    'StartScreenShareRslt', 'StopScreenShareRslt', 'NotifyScreenShareStarted',
    'NotifyScreenShareStopped', 'NotifyMediaError'
  ].forEach(function (n) { defCallback(n); });
  // Two names of one callback: assigning either sets the one handler.
  defCallback('DestroyMeetingRslt', 'StopMeetingRslt');
  defCallback('SendCmdRlst', 'SendCmdRslt');
  defCallback('SendBufferRlst', 'SendBufferRslt');
  defCallback('SendFileRlst', 'SendFileRslt');
  defCallback('CancelSendRlst', 'CancelSendRslt');

  // fire calls the app's handler of callback name, if it set one.
  function fire(name) {
    var o = cbs[name];
    var f = o && o.callback;
    if (typeof f !== 'function') return;
    var args = Array.prototype.slice.call(arguments, 1);
    try {
      f.apply(o, args);
    } catch (e) {
      report(e);
    }
  }

  // ---------------------------------------------------------------------
  // Connection and JSON-RPC.

  var REQUEST_TIMEOUT = 15000;
  var CONNECT_TIMEOUT = 10000;

  var inited = true; // CRVideo_Init is optional; CRVideo_Uninit turns the SDK off
  var serverAddr = '';
  var conn = null; // {ws, nextID, pending}
  var sess = null; // the logged-in session, see newSession

  function pageHost() {
    return win.location && win.location.host ? win.location.host : '';
  }

  // wsURLs turns the server address ("host:port", a list separated by ";",
  // or full http(s)/ws(s) URLs) into the WebSocket URLs to try in order.
  function wsURLs() {
    var list = (serverAddr || pageHost()).split(/[;,\s]+/).filter(Boolean);
    var secure = win.location && win.location.protocol === 'https:';
    return list.map(function (a) {
      var m = /^(https?|wss?):\/\/([^/]+)(\/.*)?$/i.exec(a);
      if (!m) return (secure ? 'wss://' : 'ws://') + a.replace(/\/+$/, '') + '/ws';
      var scheme = m[1].toLowerCase();
      scheme = scheme === 'https' || scheme === 'wss' ? 'wss' : 'ws';
      var path = m[3] && m[3] !== '/' ? m[3] : '/ws';
      return scheme + '://' + m[2] + path;
    });
  }

  function openSocket(url) {
    return new Promise(function (resolve, reject) {
      var ws;
      try {
        ws = new WebSocket(url);
      } catch (e) {
        reject(rpcError(ERR.CREATE_CONN_FAILED, String(e)));
        return;
      }
      var timer = setTimeout(function () {
        ws.onopen = ws.onerror = ws.onclose = null;
        try { ws.close(); } catch (e) { /* ignore */ }
        reject(rpcError(ERR.CREATE_CONN_FAILED, 'timeout connecting to ' + url));
      }, CONNECT_TIMEOUT);
      ws.onopen = function () {
        clearTimeout(timer);
        ws.onerror = ws.onclose = null;
        resolve(ws);
      };
      ws.onerror = ws.onclose = function () {
        clearTimeout(timer);
        ws.onopen = ws.onerror = ws.onclose = null;
        reject(rpcError(ERR.CREATE_CONN_FAILED, 'cannot connect to ' + url));
      };
    });
  }

  function connect() {
    if (conn) return Promise.resolve(conn);
    var urls = wsURLs();
    if (!urls.length) return Promise.reject(rpcError(ERR.CREATE_CONN_FAILED, 'no server address'));
    var i = 0;
    function next(err) {
      if (i >= urls.length) return Promise.reject(err);
      return openSocket(urls[i++]).catch(next);
    }
    return next(rpcError(ERR.CREATE_CONN_FAILED)).then(function (ws) {
      return adopt(ws, 1, {});
    });
  }

  // adopt makes ws the connection, with the request ids and pending
  // requests it carries on (a resumed session keeps those of the lost one).
  function adopt(ws, nextID, pending) {
    var c = { ws: ws, nextID: nextID, pending: pending, lastRecv: Date.now(), lastSent: Date.now(), beat: null };
    conn = c;
    ws.onmessage = function (e) { c.lastRecv = Date.now(); onMessage(c, e.data); };
    ws.onclose = function (e) { c.closed = e ? { code: e.code, reason: e.reason } : {}; onClose(c); };
    ws.onerror = function () { /* onclose follows */ };
    // Heartbeat (resume.md): a browser cannot send WebSocket pings, so a
    // logged-in connection sends ping after 2 s without traffic and takes
    // the connection for lost after 6 s without a message from the node.
    c.beat = setInterval(function () {
      if (c !== conn) { clearInterval(c.beat); return; }
      if (!sess || !sess.loggedIn) return;
      var now = Date.now();
      if (now - c.lastRecv >= HEARTBEAT_LOST) {
        c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
        try { c.ws.close(4001, 'keepalive unanswered'); } catch (e) { /* ignore */ }
        onClose(c);
      } else if (now - c.lastRecv >= HEARTBEAT_IDLE && now - c.lastSent >= HEARTBEAT_IDLE) {
        rpc('ping').catch(function () { /* the loss is handled by onClose */ });
      }
    }, 500);
    return c;
  }

  var HEARTBEAT_IDLE = 2000, HEARTBEAT_LOST = 6000;

  // resumable tells whether a lost connection leaves a session to resume.
  function resumable(s) {
    return s && s.loggedIn && !s.lineOff && !s.loggingOut && s.resumeToken && s.resumeGraceMs > 0;
  }

  // lost keeps the session of a lost connection and resumes it on a new one
  // (docs/protocol/resume.md): backoff 250 ms → 2 s with ±25 % jitter while
  // the grace window lasts; the pending requests not answered in the replay
  // are sent again with their ids.
  function lost(c, s) {
    conn = null;
    clearInterval(c.beat);
    Object.keys(c.pending).forEach(function (id) { clearTimeout(c.pending[id].timer); });
    var deadline = Date.now() + s.resumeGraceMs, delay = 250;
    // w holds the requests that wait for the resume: those of the lost
    // connection and those the app makes meanwhile (rpc queues them here).
    var w = s.waiting = { pending: c.pending, nextID: c.nextID };
    // The session lives on the node it logged in to: resume there, not on
    // the first of several addresses.
    var url = c.ws.url || wsURLs()[0];
    s.resuming = true;
    fire('NetStateChanged', 0);
    function giveUp(code) {
      if (sess !== s) return;
      s.resuming = false;
      if (conn) closeSocket(conn);
      failPending(w, ERR.CONNECTIONLOST);
      endSession();
      fire('LineOff', code === 10 ? 10 : ERR.CONNECTIONLOST);
    }
    function attempt() {
      if (sess !== s) { failPending(w, ERR.CONNECTIONLOST); return; } // logged out meanwhile
      if (Date.now() >= deadline) { giveUp(ERR.CONNECTIONLOST); return; }
      openSocket(url).then(function (ws) {
        if (sess !== s) { try { ws.close(1000); } catch (e) { /* ignore */ } return null; }
        var nc = adopt(ws, w.nextID, w.pending);
        return rpc('resume', { token: s.resumeToken, appID: s.appID, userID: s.userID, lastSeq: s.lastSeq }).then(function (res) {
          if (sess !== s || conn !== nc) return;
          s.resuming = false;
          s.waiting = null;
          s.resumeToken = str(res.resumeToken);
          if (typeof res.resumeGraceMs === 'number') s.resumeGraceMs = res.resumeGraceMs;
          fire('NetStateChanged', 10);
          Object.keys(nc.pending).forEach(function (id) {
            var p = nc.pending[id];
            if (p.method === 'ping') { delete nc.pending[id]; clearTimeout(p.timer); p.resolve({}); return; }
            resend(nc, Number(id), p);
          });
          if (typeof media.restartFailed === 'function') media.restartFailed();
        }, function (err) {
          if (sess !== s) return;
          var code = codeOf(err);
          if (code === ERR.CONNECTIONLOST || code === 10 || code === 21 || code === 5 || code === 807) {
            w.pending = nc.pending;
            giveUp(code);
            return;
          }
          throw err;
        });
      }).catch(function () {
        if (sess !== s) return;
        if (conn) { var oc = conn; w.pending = oc.pending; w.nextID = oc.nextID; oc.ws.onmessage = oc.ws.onclose = oc.ws.onerror = null; clearInterval(oc.beat); conn = null; try { oc.ws.close(4001); } catch (e) { /* ignore */ } }
        Object.keys(w.pending).forEach(function (id) { clearTimeout(w.pending[id].timer); });
        var d = delay * (0.75 + Math.random() * 0.5);
        delay = Math.min(delay * 2, 2000);
        setTimeout(attempt, Math.min(d, Math.max(0, deadline - Date.now())));
      });
    }
    setTimeout(attempt, delay * (0.75 + Math.random() * 0.5));
  }

  // moveSession follows the 803 that sends the session to the node
  // forwarding the meeting's media (docs/protocol/resume.md, "Moving to
  // another node"): connect there, present the token with moveIn, read the
  // old connection until its node closes it (what it sent before the move
  // comes first), then carry on over the new one, where the entry and the
  // requests made meanwhile go out again. The app sees one
  // CRVideo_EnterMeeting that succeeds, and no NetStateChanged. It
  // reports false when there is nothing to follow: the 803 goes to the app.
  function moveSession(c, p, data) {
    var mt = data && data.moveTo;
    var s = sess;
    if (!mt || typeof mt.url !== 'string' || typeof mt.token !== 'string' || !s || !s.loggedIn || s.moving || s.resuming) return false;
    var mv = s.moving = { from: c, closed: false };
    var oldClosed = new Promise(function (resolve) { mv.oldClosed = function () { mv.closed = true; resolve(); }; });
    s.resuming = true; // requests made meanwhile wait in c.pending (rpc)
    s.waiting = { pending: c.pending, nextID: c.nextID };
    clearTimeout(p.timer);
    p.timer = null; // sent again on the new connection
    var early = []; // what the new node sent, in order, handled once the old connection is over
    openSocket(mt.url).then(function (ws) {
      return new Promise(function (resolve, reject) {
        var id = c.nextID++;
        var r = null;
        var timer = setTimeout(function () { reject(rpcError(ERR.NOSERVER_RSP, 'moveIn: no response')); }, REQUEST_TIMEOUT);
        ws.onmessage = function (e) {
          early.push(e.data);
          if (r) return;
          var msg;
          try { msg = JSON.parse(e.data); } catch (x) { return; }
          if (!msg || msg.id !== id) return;
          clearTimeout(timer);
          if (msg.error) { reject(rpcError(typeof msg.error.code === 'number' ? msg.error.code : ERR.UNKNOWERR, msg.error.message)); return; }
          r = { ws: ws, res: msg.result || {}, lost: false };
          resolve(r);
        };
        ws.onclose = function () {
          clearTimeout(timer);
          if (r) { r.lost = true; return; } // handled once it is the connection
          reject(rpcError(ERR.CREATE_CONN_FAILED, 'moveIn: connection closed'));
        };
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: id, method: 'moveIn', params: { token: mt.token, appID: s.appID, userID: s.userID } }));
      }).catch(function (err) {
        ws.onmessage = ws.onclose = null;
        try { ws.close(1000); } catch (x) { /* ignore */ }
        throw err;
      });
    }).then(function (r) {
      var wait;
      // The old node answers the request it is handling first (which may
      // wait up to 30 s for the log); a dead one is noticed sooner, by
      // the heartbeat.
      var late = new Promise(function (resolve) { wait = setTimeout(resolve, 35000); });
      return Promise.race([oldClosed, late]).then(function () {
        clearTimeout(wait);
        if (sess !== s) { r.ws.onmessage = r.ws.onclose = null; try { r.ws.close(1000); } catch (x) { /* ignore */ } return; }
        clearInterval(c.beat);
        c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
        try { c.ws.close(1000); } catch (x) { /* ignore */ }
        // Closed by its node after the cut, the old connection brought
        // every answer it had: what it did not answer goes out again.
        // Lost, or not closed in time, what went out on it may have been
        // handled there: that fails rather than run twice.
        var clean = c.closed && c.closed.code === 1000 && c.closed.reason === 'moved to another node';
        Object.keys(c.pending).forEach(function (id) {
          var q = c.pending[id];
          clearTimeout(q.timer);
          if (!clean && q.timer && q !== p) { delete c.pending[id]; q.reject(rpcError(ERR.CONNECTIONLOST, 'connection lost during a move')); }
        });
        s.moving = null;
        s.resuming = false;
        s.waiting = null;
        s.lastSeq = 0; // the new node numbers from 1
        s.resumeToken = str(r.res.resumeToken);
        s.resumeGraceMs = typeof r.res.resumeGraceMs === 'number' ? r.res.resumeGraceMs : 0;
        if (Array.isArray(r.res.iceServers)) s.iceServers = r.res.iceServers;
        leaveMeetingLocal(s); // the node left it: its media was on the old node
        media.close(); // the old node's connections; entering opens new ones
        media.start(s);
        var nc = adopt(r.ws, c.nextID, c.pending);
        early.forEach(function (d) { onMessage(nc, d); });
        Object.keys(nc.pending).forEach(function (id) {
          var q = nc.pending[id];
          if (q.method === 'ping') { delete nc.pending[id]; q.resolve({}); return; }
          resend(nc, Number(id), q);
        });
        if (r.lost) onClose(nc); // the new connection ended while the old one finished
      });
    }, function (err) {
      if (sess !== s) return;
      warn('the session could not move to the meeting\'s node', err);
      s.moving = null;
      s.resuming = false;
      s.waiting = null;
      Object.keys(c.pending).forEach(function (id) {
        var q = c.pending[id];
        if (q === p) { delete c.pending[id]; p.reject(rpcError(803, 'the meeting\'s node could not be reached')); return; }
        if (!q.timer && !mv.closed) resend(c, Number(id), q); // made during the attempt
      });
      if (mv.closed) onClose(c); // the old connection ended meanwhile: lost as any other
    });
    return true;
  }

  function resend(c, id, p) {
    var msg = { jsonrpc: '2.0', id: id, method: p.method };
    if (p.params) msg.params = p.params;
    armTimer(c, id, p);
    try { c.ws.send(JSON.stringify(msg)); c.lastSent = Date.now(); } catch (e) { /* the close handler resumes again */ }
  }

  function armTimer(c, id, p) {
    p.timer = setTimeout(function () {
      if (c.pending[id] !== p) return;
      delete c.pending[id];
      p.reject(rpcError(ERR.NOSERVER_RSP, p.method + ': no response'));
    }, REQUEST_TIMEOUT);
  }


  function onMessage(c, data) {
    if (c !== conn || typeof data !== 'string') return;
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') return;
    // Every message to a logged-in session carries a seq (resume.md); one
    // at or below the highest seen is a replay already handled: drop it.
    if (typeof msg.seq === 'number' && sess) {
      if (msg.seq <= sess.lastSeq) return;
      sess.lastSeq = msg.seq;
    }
    if (typeof msg.method === 'string') {
      onEvent(msg.method, msg.params && typeof msg.params === 'object' ? msg.params : {});
      return;
    }
    var p = msg.id !== undefined && msg.id !== null ? c.pending[msg.id] : null;
    if (!p) return;
    if (p.method === 'enterMeeting' && msg.error && msg.error.code === 803 && moveSession(c, p, msg.error.data)) return;
    delete c.pending[msg.id];
    clearTimeout(p.timer);
    if (msg.error) p.reject(rpcError(typeof msg.error.code === 'number' ? msg.error.code : ERR.UNKNOWERR, msg.error.message));
    else p.resolve(msg.result || {});
  }

  function onClose(c) {
    if (c !== conn) return;
    if (sess && sess.moving && sess.moving.from === c) { sess.moving.oldClosed(); return; }
    if (sess && sess.resuming) {
      // the connection a resume was tried on ended: its resume fails, and
      // the loop of lost() tries again
      clearInterval(c.beat);
      conn = null;
      Object.keys(c.pending).forEach(function (id) {
        var p = c.pending[id];
        if (p.method !== 'resume') return;
        delete c.pending[id];
        clearTimeout(p.timer);
        p.reject(rpcError(ERR.SOCKETEXCEPTION, 'connection lost'));
      });
      return;
    }
    if (resumable(sess)) { lost(c, sess); return; }
    clearInterval(c.beat);
    conn = null;
    failPending(c, ERR.CONNECTIONLOST);
    var s = sess;
    if (s) {
      endSession();
      if (!s.lineOff && !s.loggingOut) fire('LineOff', ERR.CONNECTIONLOST);
    }
  }

  function failPending(c, code) {
    var ids = Object.keys(c.pending);
    ids.forEach(function (id) {
      var p = c.pending[id];
      delete c.pending[id];
      clearTimeout(p.timer);
      p.reject(rpcError(code, 'connection lost'));
    });
  }

  function closeSocket(c) {
    if (!c) return;
    if (conn === c) conn = null;
    clearInterval(c.beat);
    failPending(c, ERR.CONNECTIONLOST);
    c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
    try { c.ws.close(1000); } catch (e) { /* ignore */ }
  }

  // rpc sends a request and resolves with its result; it rejects with an
  // Error whose code is the CRVideo error code.
  function rpc(method, params) {
    var c = conn;
    var w = sess && sess.resuming && method !== 'resume' ? sess.waiting : null;
    if (w) {
      // The session is being resumed: the request waits, and goes out
      // (with this id) once it is, or fails with 207 if it cannot be.
      return new Promise(function (resolve, reject) {
        var id = c ? c.nextID++ : w.nextID++;
        (c ? c.pending : w.pending)[id] = { resolve: resolve, reject: reject, method: method, params: params };
      });
    }
    if (!c) return Promise.reject(rpcError(ERR.NOT_LOGIN, 'not logged in'));
    return new Promise(function (resolve, reject) {
      var id = c.nextID++;
      var msg = { jsonrpc: '2.0', id: id, method: method };
      if (params) msg.params = params;
      var p = { resolve: resolve, reject: reject, method: method, params: params };
      c.pending[id] = p;
      armTimer(c, id, p);
      try {
        c.ws.send(JSON.stringify(msg));
        c.lastSent = Date.now();
      } catch (e) {
        clearTimeout(c.pending[id].timer);
        delete c.pending[id];
        reject(rpcError(ERR.SOCKETEXCEPTION, String(e)));
      }
    });
  }

  // notify sends a request without id: the node answers nothing.
  function notify(method, params) {
    if (!conn) return;
    try {
      conn.ws.send(JSON.stringify({ jsonrpc: '2.0', method: method, params: params }));
    } catch (e) { /* the close handler reports */ }
  }

  // call runs a method for the app: ok(result) or fail(code) runs later,
  // never inside the caller. Calls made while not logged in fail with 12;
  // calls made while a lost session resumes wait for the resume.
  function call(method, params, ok, fail) {
    var s = sess;
    var p = s && s.loggedIn ? rpc(method, params) : Promise.reject(rpcError(ERR.NOT_LOGIN, 'not logged in'));
    p.then(function (res) { if (ok) ok(res); }, function (err) { if (fail) fail(codeOf(err)); });
  }
