/*!
 * crvideo.js: the browser SDK of crvnode, for the CRVideo API.
 *
 * A classic script with no dependency. It defines, as globals, every
 * CRVideo_* function and callback object of the CRVideo meeting-management
 * API, plus the media functions a meeting needs. Web apps written against
 * the CRVideo web SDK work by loading this file instead of the vendor's.
 *
 * Everything goes over crvnode's public JSON-RPC protocol (docs/protocol.md)
 * on one WebSocket at /ws, and over two RTCPeerConnections: the "up"
 * connection this SDK offers right after login (what the user publishes,
 * and the "crv-data" data channel of transfers), and the "down" connection
 * the node offers (what the user receives).
 *
 * Conventions of the CRVideo API kept here:
 * - callbacks are global objects with a .callback field the app assigns;
 *   one handler per event, assigning again replaces it;
 * - object arguments arrive parsed;
 * - the cookie argument never leaves the page: it is kept by request and
 *   handed back in the callback;
 * - a failure reaches the Fail/Rslt callback with the CRVideo error code
 *   (sdkEr), which is the JSON-RPC error code the node answered;
 * - callbacks never run inside the call that causes them.
 *
 * Loaded as an ES module (crvideo.mjs) the same names are exports and no
 * global is defined.
 */
(function (root) {
  'use strict';

  var VERSION = '1.0.0';
  var win = typeof window !== 'undefined' ? window : globalThis; // root is the exports object in the module build
  var api = {}; // every exported name
  var ns = { version: VERSION, _transfer: null }; // the crvideo namespace

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
    MEDIA_PERMISSION_DENIED: 8002, MEDIA_OPEN_FAILED: 8007
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
    'LoginSuccess', 'LoginFail', 'LineOff',
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
  ns._fire = fire;

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
      var c = { ws: ws, nextID: 1, pending: {} };
      conn = c;
      ws.onmessage = function (e) { onMessage(c, e.data); };
      ws.onclose = function () { onClose(c); };
      ws.onerror = function () { /* onclose follows */ };
      return c;
    });
  }

  function onMessage(c, data) {
    if (c !== conn || typeof data !== 'string') return;
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    if (!msg || typeof msg !== 'object') return;
    if (typeof msg.method === 'string') {
      onEvent(msg.method, msg.params && typeof msg.params === 'object' ? msg.params : {});
      return;
    }
    var p = msg.id !== undefined && msg.id !== null ? c.pending[msg.id] : null;
    if (!p) return;
    delete c.pending[msg.id];
    clearTimeout(p.timer);
    if (msg.error) p.reject(rpcError(typeof msg.error.code === 'number' ? msg.error.code : ERR.UNKNOWERR, msg.error.message));
    else p.resolve(msg.result || {});
  }

  function onClose(c) {
    if (c !== conn) return;
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
    failPending(c, ERR.CONNECTIONLOST);
    c.ws.onmessage = c.ws.onclose = c.ws.onerror = null;
    try { c.ws.close(1000); } catch (e) { /* ignore */ }
  }

  // rpc sends a request and resolves with its result; it rejects with an
  // Error whose code is the CRVideo error code.
  function rpc(method, params) {
    var c = conn;
    if (!c) return Promise.reject(rpcError(ERR.NOT_LOGIN, 'not logged in'));
    return new Promise(function (resolve, reject) {
      var id = c.nextID++;
      var msg = { jsonrpc: '2.0', id: id, method: method };
      if (params) msg.params = params;
      c.pending[id] = {
        resolve: resolve, reject: reject,
        timer: setTimeout(function () {
          if (!c.pending[id]) return;
          delete c.pending[id];
          reject(rpcError(ERR.NOSERVER_RSP, method + ': no response'));
        }, REQUEST_TIMEOUT)
      };
      try {
        c.ws.send(JSON.stringify(msg));
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
  // never inside the caller. Calls made while not logged in fail with 12.
  function call(method, params, ok, fail) {
    var s = sess;
    var p = s && s.loggedIn ? rpc(method, params) : Promise.reject(rpcError(ERR.NOT_LOGIN, 'not logged in'));
    p.then(function (res) { if (ok) ok(res); }, function (err) { if (fail) fail(codeOf(err)); });
  }

  // ---------------------------------------------------------------------
  // Session: login, logout, state.

  function newSession() {
    return {
      loggedIn: false, loggingOut: false, lineOff: false,
      userID: '', nickName: '', appID: '', iceServers: [],
      statusCookie: '',
      meeting: null // {meetObj, members: Map, screens: Set}
    };
  }

  function endSession() {
    var s = sess;
    if (!s) return;
    sess = null;
    leaveMeetingLocal(s);
    media.close();
  }

  function login(method, params, cookie) {
    if (!inited) {
      later(function () { fire('LoginFail', ERR.NOT_INIT, cookie); });
      return;
    }
    if (sess) {
      later(function () { fire('LoginFail', ERR.ALREADYLOGIN, cookie); });
      return;
    }
    var s = newSession();
    sess = s;
    connect().then(function () {
      if (sess !== s) throw rpcError(ERR.LOGINSTATE_ERROR, 'logged out meanwhile');
      return rpc(method, params);
    }).then(function (res) {
      if (sess !== s) return;
      s.loggedIn = true;
      s.userID = str(res.userID);
      s.nickName = str(res.nickName);
      s.appID = str(res.appID);
      s.iceServers = Array.isArray(res.iceServers) ? res.iceServers : [];
      fire('LoginSuccess', s.userID, cookie);
      if (sess === s) media.start(s); // unless the callback logged out
    }, function (err) {
      if (sess === s) {
        sess = null;
        closeSocket(conn);
      }
      fire('LoginFail', codeOf(err), cookie);
    });
  }

  api.CRVideo_Init = function () {
    inited = true;
    return ERR.NOERR;
  };

  api.CRVideo_Uninit = function () {
    api.CRVideo_Logout();
    inited = false;
  };

  api.CRVideo_SetServerAddr = function (addr) {
    serverAddr = str(addr).trim();
  };

  api.CRVideo_GetServerAddr = function () {
    return serverAddr || pageHost();
  };

  /** appSecret must be the MD5 (hex) of the app's secret, as for the vendor SDK. */
  api.CRVideo_Login = function (appID, appSecret, nickName, userID, userAuthCode, cookie) {
    login('login', {
      appID: str(appID), appSecret: str(appSecret), nickName: str(nickName),
      userID: str(userID), userAuthCode: str(userAuthCode)
    }, cookie);
  };

  api.CRVideo_LoginByToken = function (token, nickName, userID, userAuthCode, cookie) {
    var p = { token: str(token), nickName: str(nickName) };
    if (str(userID)) p.userID = str(userID);
    if (str(userAuthCode)) p.userAuthCode = str(userAuthCode);
    login('loginByToken', p, cookie);
  };

  api.CRVideo_Logout = function () {
    var s = sess;
    var c = conn;
    if (!s) return;
    s.loggingOut = true;
    endSession();
    if (c) {
      if (s.loggedIn) notify('logout', {});
      closeSocket(c);
    }
  };

  api.CRVideo_SetDNDStatus = function (DNDStatus, cookie) {
    call('setDNDStatus', { DNDStatus: Math.trunc(Number(DNDStatus)) || 0 },
      function () { fire('SetDNDStatusSuccess', cookie); },
      function (code) { fire('SetDNDStatusFail', code, cookie); });
  };

  api.CRVideo_GetUserStatus = function (cookie) {
    call('getUserStatus', null,
      function (res) { fire('GetUserStatusSuccess', res.userStatus || [], cookie); },
      function (code) { fire('GetUserStatusFail', code, cookie); });
  };

  api.CRVideo_StartUserStatusNotify = function (cookie) {
    var s = sess;
    call('startUserStatusNotify', null,
      function () {
        if (s) s.statusCookie = cookie;
        fire('StartUserStatusNotifyRslt', ERR.NOERR, cookie);
      },
      function (code) { fire('StartUserStatusNotifyRslt', code, cookie); });
  };

  api.CRVideo_StopUserStatusNotify = function (cookie) {
    call('stopUserStatusNotify', null,
      function () { fire('StopUserStatusNotifyRslt', ERR.NOERR, cookie); },
      function (code) { fire('StopUserStatusNotifyRslt', code, cookie); });
  };

  // ---------------------------------------------------------------------
  // Meetings and the member list.

  /** CreateMeeting(meetSubject, createPswd, cookie); the older form CreateMeeting(meetSubject, cookie) works too. */
  api.CRVideo_CreateMeeting = function (meetSubject, createPswd, cookie) {
    if (arguments.length === 2 && typeof createPswd === 'string' && !/^\s*\d+\s*$/.test(createPswd)) {
      cookie = createPswd;
      createPswd = 0;
    }
    call('createMeeting', { meetSubject: str(meetSubject), createPswd: Math.max(0, Math.trunc(Number(createPswd)) || 0) },
      function (res) { fire('CreateMeetingSuccess', res.meetObj, cookie); },
      function (code) { fire('CreateMeetingFail', code, cookie); });
  };

  api.CRVideo_DestroyMeeting = function (meetID, cookie) {
    call('destroyMeeting', { meetID: Math.trunc(Number(meetID)) || 0 },
      function () { fire('DestroyMeetingRslt', ERR.NOERR, cookie); },
      function (code) { fire('DestroyMeetingRslt', code, cookie); });
  };

  api.CRVideo_GetMeetings = function (cookie) {
    call('getMeetings', null,
      function (res) { fire('GetMeetingsSuccess', res.meetings || [], cookie); },
      function (code) { fire('GetMeetingsFail', code, cookie); });
  };

  api.CRVideo_EnterMeeting = function (meetID, pswd, userID, nickName, cookie) {
    var s = sess;
    var p = { meetID: Math.trunc(Number(meetID)) || 0, pswd: str(pswd) };
    if (str(userID)) p.userID = str(userID);
    if (str(nickName)) p.nickName = str(nickName);
    if (s && s.meeting && s.meeting.meetObj.ID !== p.meetID) leaveMeetingLocal(s); // the node leaves the old one first
    call('enterMeeting', p, function (res) {
      if (sess !== s) return;
      var m = { meetObj: res.meetObj || {}, members: new Map(), screens: new Set() };
      (res.members || []).forEach(function (mi) { m.members.set(mi.userID, memberOf(mi)); });
      s.meeting = m;
      // Screen shares already running are not in the member list: ask.
      rpc('getWatchableVideos', null).then(function (r) {
        if (s.meeting !== m) return;
        m.screens = new Set((r.videos || []).filter(function (v) { return v.videoID === 2; }).map(function (v) { return v.userID; }));
      }, function () { /* not fatal */ }).then(function () {
        if (s.meeting === m) fire('EnterMeetingRslt', ERR.NOERR, cookie);
      });
    }, function (code) { fire('EnterMeetingRslt', code, cookie); });
  };

  api.CRVideo_ExitMeeting = function () {
    var s = sess;
    if (!s || !s.meeting) return;
    leaveMeetingLocal(s);
    call('exitMeeting', null);
  };

  // leaveMeetingLocal forgets the meeting: the member list, the local
  // devices (closed as the node closes them) and what is received.
  function leaveMeetingLocal(s) {
    if (!s.meeting) return;
    s.meeting = null;
    ['mic', 'camera', 'screen'].forEach(function (src) { media.closeOwn(src); });
    media.closeDown();
    videoObjs.forEach(function (v) { v._reset(); });
  }

  function memberOf(mi) {
    var nick = str(mi.nickName !== undefined ? mi.nickName : mi.nickname);
    return {
      userID: str(mi.userID), nickName: nick, nickname: nick,
      audioStatus: Number(mi.audioStatus) || 0, videoStatus: Number(mi.videoStatus) || 0
    };
  }

  function copyMember(m) {
    return { userID: m.userID, nickName: m.nickName, nickname: m.nickName, audioStatus: m.audioStatus, videoStatus: m.videoStatus };
  }

  function member(userID) {
    var s = sess;
    return s && s.meeting ? s.meeting.members.get(str(userID)) : undefined;
  }

  function selfID() {
    return sess ? sess.userID : '';
  }

  api.CRVideo_GetAllMembers = function () {
    var s = sess;
    if (!s || !s.meeting) return [];
    return Array.from(s.meeting.members.values()).map(copyMember).sort(function (a, b) {
      return a.userID < b.userID ? -1 : a.userID > b.userID ? 1 : 0;
    });
  };

  api.CRVideo_GetMemberInfo = function (userID) {
    var m = member(userID);
    return m ? copyMember(m) : null;
  };

  api.CRVideo_GetMemberNickName = function (userID) {
    var m = member(userID);
    return m ? m.nickName : '';
  };

  api.CRVideo_IsUserInMeeting = function (userID) {
    return !!member(userID);
  };

  api.CRVideo_Kickout = function (userID, cookie) {
    call('kickout', { userID: str(userID) },
      function () { fire('KickoutRslt', ERR.NOERR, cookie); },
      function (code) { fire('KickoutRslt', code, cookie); });
  };

  api.CRVideo_SendMeetingCustomMsg = function (msg, cookie) {
    call('sendMeetingCustomMsg', { msg: typeof msg === 'string' ? msg : JSON.stringify(msg) },
      function () { fire('SendMeetingCustomMsgRslt', ERR.NOERR, cookie); },
      function (code) { fire('SendMeetingCustomMsgRslt', code, cookie); });
  };

  // ---------------------------------------------------------------------
  // Calls and invites.

  api.CRVideo_Call = function (calledUserID, meetObj, usrExtDat, cookie) {
    var callID = uuid();
    var p = { callID: callID, calledUserID: str(calledUserID), usrExtDat: str(usrExtDat) };
    var ref = meetRef(meetObj);
    if (ref) p.meetObj = ref;
    call('call', p,
      function () { fire('CallSuccess', callID, cookie); },
      function (code) { fire('CallFail', callID, code, cookie); });
    return callID;
  };

  api.CRVideo_AcceptCall = function (callID, meetObj, usrExtDat, cookie) {
    var p = { callID: str(callID), usrExtDat: str(usrExtDat) };
    var ref = meetRef(meetObj);
    if (ref) p.meetObj = ref;
    call('acceptCall', p,
      function () { fire('AcceptCallSuccess', str(callID), cookie); },
      function (code) { fire('AcceptCallFail', str(callID), code, cookie); });
  };

  api.CRVideo_RejectCall = function (callID, usrExtDat, cookie) {
    call('rejectCall', { callID: str(callID), usrExtDat: str(usrExtDat) },
      function () { fire('RejectCallSuccess', str(callID), cookie); },
      function (code) { fire('RejectCallFail', str(callID), code, cookie); });
  };

  api.CRVideo_HungupCall = function (callID, usrExtDat, cookie) {
    call('hungupCall', { callID: str(callID), usrExtDat: str(usrExtDat) },
      function () { fire('HangupCallSuccess', str(callID), cookie); },
      function (code) { fire('HangupCallFail', str(callID), code, cookie); });
  };
  api.CRVideo_HangupCall = api.CRVideo_HungupCall;

  function invite(method, rslt, called, meetObj, usrExtDat, cookie) {
    var inviteID = uuid();
    var p = { inviteID: inviteID, called: str(called), usrExtDat: str(usrExtDat) };
    var ref = meetRef(meetObj);
    if (ref) p.meetObj = ref;
    call(method, p,
      function () { fire(rslt, inviteID, ERR.NOERR, cookie); },
      function (code) { fire(rslt, inviteID, code, cookie); });
    return inviteID;
  }

  api.CRVideo_CallMoreParty = function (called, meetObj, usrExtDat, cookie) {
    return invite('callMoreParty', 'CallMorePartyRslt', called, meetObj, usrExtDat, cookie);
  };

  api.CRVideo_ClientInvite = function (called, meetObj, cookie) {
    return invite('clientInvite', 'ClientInviteRslt', called, meetObj, '', cookie);
  };

  api.CRVideo_CancelCallMoreParty = function (inviteID, usrExtDat, cookie) {
    call('cancelCallMoreParty', { inviteID: str(inviteID), usrExtDat: str(usrExtDat) },
      function () { fire('CancelCallMorePartyRslt', str(inviteID), ERR.NOERR, cookie); },
      function (code) { fire('CancelCallMorePartyRslt', str(inviteID), code, cookie); });
  };

  api.CRVideo_ClientCancelInvite = function (inviteID, cookie) {
    call('clientCancelInvite', { inviteID: str(inviteID) },
      function () { fire('ClientCancelInviteRslt', str(inviteID), ERR.NOERR, cookie); },
      function (code) { fire('ClientCancelInviteRslt', str(inviteID), code, cookie); });
  };

  // ---------------------------------------------------------------------
  // Events from the node.

  function statusEvent(kind, p) {
    var s = sess;
    var uid = str(p.userID);
    var m = member(uid);
    var field = kind === 'audio' ? 'audioStatus' : 'videoStatus';
    var old = m ? m[field] : Number(p.oldStatus) || 0;
    var now = Number(p.newStatus) || 0;
    if (m) m[field] = now;
    if (s && uid === s.userID && now !== ST_OPEN && now !== ST_OPENING) {
      media.closeOwn(kind === 'audio' ? 'mic' : 'camera'); // closed by the meeting's creator, or by us
    }
    if (kind === 'video') videoObjs.forEach(function (v) { v._refresh(); });
    if (old !== now) fire(kind === 'audio' ? 'AudioStatusChanged' : 'VideoStatusChanged', uid, old, now);
  }

  var events = {
    notifyCallIn: function (p) { fire('NotifyCallIn', p.callID, p.meetObj, p.callerID, p.usrExtDat); },
    notifyCallAccepted: function (p) { fire('NotifyCallAccepted', p.callID, p.meetObj, p.usrExtDat); },
    notifyCallRejected: function (p) { fire('NotifyCallRejected', p.callID, p.sdkErr, p.usrExtDat); },
    notifyCallHungup: function (p) { fire('NotifyCallHungup', p.callID, p.usrExtDat); },
    notifyCallMorePartyStatus: function (p) { fire('NotifyCallMorePartyStatus', p.inviteID, p.status); },
    notifyInviteStatus: function (p) { fire('NotifyInviteStatus', p.inviteID, p.status); },
    notifyUserStatus: function (p) { fire('NotifyUserStatus', p.userStatus, sess ? sess.statusCookie : ''); },
    lineOff: function (p) {
      var s = sess;
      if (s) s.lineOff = true;
      endSession();
      closeSocket(conn);
      fire('LineOff', p.sdkEr);
    },
    userEnterMeeting: function (p) {
      var s = sess;
      if (s && s.meeting) s.meeting.members.set(str(p.userID), memberOf(p));
      fire('UserEnterMeeting', p.userID);
    },
    userLeftMeeting: function (p) {
      var s = sess;
      if (s && s.meeting) {
        s.meeting.members.delete(str(p.userID));
        s.meeting.screens.delete(str(p.userID));
      }
      fire('UserLeftMeeting', p.userID);
    },
    meetingStopped: function (p) {
      var s = sess;
      if (s && s.meeting && (!p.meetID || s.meeting.meetObj.ID === p.meetID)) leaveMeetingLocal(s);
      fire('MeetingStopped', p.meetID);
    },
    meetingDropped: function (p) {
      if (sess) leaveMeetingLocal(sess);
      fire('MeetingDropped', p.reason);
    },
    notifyMeetingCustomMsg: function (p) { fire('NotifyMeetingCustomMsg', p.userID, p.msg); },
    audioStatusChanged: function (p) { statusEvent('audio', p); },
    videoStatusChanged: function (p) { statusEvent('video', p); },
    micEnergyUpdate: function (p) { fire('MicEnergyUpdate', p.userID, p.oldLevel, p.newLevel); },
    notifyScreenShareStarted: function (p) {
      var s = sess;
      if (s && s.meeting) s.meeting.screens.add(str(p.userID));
      videoObjs.forEach(function (v) { v._refresh(); });
      fire('NotifyScreenShareStarted', p.userID);
    },
    notifyScreenShareStopped: function (p) {
      var s = sess;
      if (s && s.meeting) s.meeting.screens.delete(str(p.userID));
      if (s && str(p.userID) === s.userID) media.closeOwn('screen');
      fire('NotifyScreenShareStopped', p.userID);
    },
    upCandidate: function (p) { media.upCandidate(p.candidate); },
    downOffer: function (p) { media.downOffer(p); },
    downCandidate: function (p) { media.downCandidate(p.candidate); }
  };

  function onEvent(method, params) {
    var h = events[method];
    if (h) h(params);
  }

  // ---------------------------------------------------------------------
  // Media: the up and down connections.

  var media = (function () {
    var m = {
      s: null,
      up: null, upChain: Promise.resolve(), upSent: false, upLocal: [],
      down: null, downSess: '', downChain: Promise.resolve(), downSent: false, downLocal: [],
      deadSess: [], // session ids of down connections closed here: their late offers are stale
      downInfo: {}, // mid -> {userID, source}
      local: {}, // source -> {tr, track}
      want: {}, // source -> the app wants it open
      devChain: {}, // source -> Promise: device operations one at a time
      remote: {}, // "userID/source" -> MediaStreamTrack
      audio: {}, // "userID/mic" -> <audio>
      dc: null
    };

    function rtcConfig() {
      return { iceServers: m.s ? m.s.iceServers : [], bundlePolicy: 'max-bundle' };
    }

    // freshICE renews the TURN credentials of the login (REST credentials
    // whose username starts with their expiry time) before a connection
    // is opened late in a session.
    function freshICE(s) {
      var soon = Date.now() / 1000 + 300;
      var stale = s.iceServers.some(function (x) {
        var r = /^(\d+):/.exec(x && typeof x.username === 'string' ? x.username : '');
        return r && Number(r[1]) < soon;
      });
      if (!stale) return Promise.resolve();
      return rpc('refreshIceServers', null).then(function (res) {
        if (Array.isArray(res.iceServers)) s.iceServers = res.iceServers;
      }, function () { /* keep what we have */ });
    }

    function candidateOut(c) {
      return { candidate: { candidate: c.candidate, sdpMid: c.sdpMid === null ? undefined : c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex === null ? undefined : c.sdpMLineIndex,
        usernameFragment: c.usernameFragment === null ? undefined : c.usernameFragment } };
    }

    m.start = function (s) {
      if (typeof RTCPeerConnection === 'undefined') return; // signaling works without WebRTC
      m.s = s;
      var pc = new RTCPeerConnection(rtcConfig());
      m.up = pc;
      pc.onicecandidate = function (e) {
        if (!e.candidate || !e.candidate.candidate || m.up !== pc) return;
        if (!m.upSent) m.upLocal.push(e.candidate);
        else notify('upCandidate', candidateOut(e.candidate));
      };
      pc.onconnectionstatechange = function () {
        // The up connection failed (network change, NAT timeout): restart
        // ICE with fresh credentials. The node offers the down connection,
        // so only the up one is ours to restart.
        if (pc.connectionState !== 'failed' || m.up !== pc) return;
        freshICE(s).then(function () {
          if (m.up !== pc) return;
          try { pc.setConfiguration(rtcConfig()); } catch (e) { /* keep the old servers */ }
          pc.restartIce();
          return m.negotiateUp();
        }).catch(function (e) { warn('ICE restart', e); });
      };
      var dc = pc.createDataChannel('crv-data', { ordered: true });
      dc.binaryType = 'arraybuffer';
      m.dc = dc;
      if (ns._transfer && ns._transfer.attach) ns._transfer.attach(dc);
      m.negotiateUp().catch(function (e) { warn('up connection', e); });
    };

    m.close = function () {
      ['mic', 'camera', 'screen'].forEach(function (src) { m.closeOwn(src); });
      m.closeDown();
      if (ns._transfer && ns._transfer.detach) ns._transfer.detach();
      if (m.up) m.up.close();
      m.up = null;
      m.dc = null;
      m.s = null;
      m.upSent = false;
      m.upLocal = [];
      m.local = {};
      m.want = {};
    };

    // upTracks says which source each sending transceiver carries.
    function upTracks(pc) {
      var out = [];
      Object.keys(m.local).forEach(function (src) {
        var l = m.local[src];
        if (l.tr && l.tr.mid !== null && pc.getTransceivers().indexOf(l.tr) >= 0) out.push({ mid: l.tr.mid, source: src });
      });
      return out;
    }

    // negotiateUp offers the up connection's current state and applies the
    // node's answer; negotiations run one at a time.
    m.negotiateUp = function () {
      var pc = m.up;
      var p = m.upChain.then(function () {
        if (m.up !== pc || !pc) throw rpcError(ERR.NOT_LOGIN, 'media closed');
        return pc.createOffer().then(function (o) {
          return pc.setLocalDescription(o);
        }).then(function () {
          return rpc('upOffer', { sdp: pc.localDescription.sdp, tracks: upTracks(pc) });
        }).then(function (res) {
          if (m.up !== pc) return;
          return pc.setRemoteDescription({ type: 'answer', sdp: res.sdp }).then(function () {
            if (!m.upSent) {
              m.upSent = true;
              m.upLocal.forEach(function (c) { notify('upCandidate', candidateOut(c)); });
              m.upLocal = [];
            }
          });
        });
      });
      m.upChain = p.catch(function () {});
      return p;
    };

    m.upCandidate = function (c) {
      var pc = m.up;
      if (!pc || !c) return;
      m.upChain = m.upChain.then(function () {
        if (m.up === pc && pc.remoteDescription) return pc.addIceCandidate(c);
      }).catch(function (e) { warn('up candidate', e); });
    };

    // sessionID is the o= line's session id: a new one is a new connection.
    function sessionID(sdp) {
      var r = /^o=\S+ (\S+)/m.exec(sdp || '');
      return r ? r[1] : '';
    }

    function newDown(id) {
      var pc = new RTCPeerConnection(rtcConfig());
      m.down = pc;
      m.downSess = id;
      m.downSent = false;
      m.downLocal = [];
      pc.onicecandidate = function (e) {
        if (!e.candidate || !e.candidate.candidate || m.down !== pc) return;
        if (!m.downSent) m.downLocal.push(e.candidate);
        else notify('downCandidate', candidateOut(e.candidate));
      };
      return pc;
    }

    m.closeDown = function () {
      if (m.down) m.down.close();
      if (m.downSess) {
        m.deadSess.push(m.downSess);
        if (m.deadSess.length > 16) m.deadSess.shift();
      }
      m.down = null;
      m.downSess = '';
      m.downInfo = {};
      syncRemote(null);
    };

    m.downOffer = function (o) {
      var s = m.s;
      if (!s) return;
      m.downChain = m.downChain.then(function () {
        if (m.s !== s) return;
        var id = sessionID(o.sdp);
        if (m.deadSess.indexOf(id) >= 0) return; // renegotiation of a connection left behind (the meeting was left)
        if (m.down && m.downSess !== id) m.closeDown();
        return (m.down ? Promise.resolve() : freshICE(s)).then(function () {
          if (m.s !== s) return;
          return answerDown(o, m.down || newDown(id));
        });
      }).catch(function (e) { warn('down offer', e); });
    };

    function answerDown(o, pc) {
      var info = {};
      (o.tracks || []).forEach(function (t) { info[t.mid] = { userID: str(t.userID), source: str(t.source) }; });
      return pc.setRemoteDescription({ type: 'offer', sdp: o.sdp }).then(function () {
        if (m.down !== pc) return;
        m.downInfo = info;
        syncRemote(pc);
        return pc.createAnswer();
      }).then(function (a) {
        if (m.down !== pc) return;
        return pc.setLocalDescription(a).then(function () {
          return rpc('downAnswer', { sdp: pc.localDescription.sdp }).catch(function (e) {
            if (m.down === pc) m.closeDown(); // the node no longer has this connection
            throw e;
          });
        }).then(function () {
          if (m.down !== pc || m.downSent) return;
          m.downSent = true;
          m.downLocal.forEach(function (c) { notify('downCandidate', candidateOut(c)); });
          m.downLocal = [];
        });
      });
    }

    m.downCandidate = function (c) {
      if (!c) return;
      m.downChain = m.downChain.then(function () {
        if (m.down && m.down.remoteDescription) return m.down.addIceCandidate(c);
      }).catch(function (e) { warn('down candidate', e); });
    };

    // syncRemote makes the received tracks those of the last offer: mids
    // the offer lists carry a member's mic, camera or screen.
    function syncRemote(pc) {
      var next = {};
      if (pc) {
        pc.getTransceivers().forEach(function (t) {
          var info = t.mid !== null ? m.downInfo[t.mid] : null;
          if (info && t.receiver && t.receiver.track) next[info.userID + '/' + info.source] = t.receiver.track;
        });
      }
      var prev = m.remote;
      m.remote = next;
      Object.keys(prev).forEach(function (k) {
        if (next[k] !== prev[k]) stopAudio(k);
      });
      Object.keys(next).forEach(function (k) {
        if (next[k].kind === 'audio' && prev[k] !== next[k]) playAudio(k, next[k]);
      });
      videoObjs.forEach(function (v) { v._refresh(); });
    }

    var blocked = [];
    function playAudio(key, track) {
      if (typeof document === 'undefined') return;
      var a = document.createElement('audio');
      a.autoplay = true;
      a.srcObject = new MediaStream([track]);
      m.audio[key] = a;
      if (m.speaker && a.setSinkId) a.setSinkId(m.speaker).catch(function (e) { warn('speaker', e); });
      var p = a.play();
      if (p && p.catch) {
        p.catch(function () {
          // Autoplay refused until the user interacts with the page.
          blocked.push(a);
          document.addEventListener('click', retryAudio, { once: true, capture: true });
        });
      }
    }

    function retryAudio() {
      var list = blocked;
      blocked = [];
      list.forEach(function (a) { if (a.srcObject) a.play().catch(function () {}); });
    }

    function stopAudio(key) {
      var a = m.audio[key];
      if (!a) return;
      delete m.audio[key];
      a.pause();
      a.srcObject = null;
    }

    // setSpeaker plays every remote member's sound on the output device id
    // ("" the default), where the browser can choose (setSinkId).
    m.setSpeaker = function (id) {
      m.speaker = id;
      Object.keys(m.audio).forEach(function (k) {
        var a = m.audio[k];
        if (a.setSinkId) a.setSinkId(id).catch(function (e) { warn('speaker', e); });
      });
    };

    m.remoteTrack = function (key) {
      return m.remote[key] || null;
    };

    m.localTrack = function (source) {
      var l = m.local[source];
      return l && l.track ? l.track : null;
    };

    // device runs f after the previous operation on the same source.
    m.device = function (source, f) {
      var p = (m.devChain[source] || Promise.resolve()).then(f);
      m.devChain[source] = p.catch(function () {});
      return p;
    };

    // publish makes track the up connection's source, adding a
    // transceiver (and negotiating) the first time only.
    m.publish = function (source, track) {
      var pc = m.up;
      if (!pc) {
        track.stop();
        return Promise.reject(rpcError(ERR.MEDIA_OPEN_FAILED, 'no up connection'));
      }
      var l = m.local[source];
      if (l && l.tr && pc.getTransceivers().indexOf(l.tr) >= 0) {
        var old = l.track;
        l.track = track;
        // The old track stops once the new one is in place: a sender whose
        // track ended before the replacement may encode nothing more.
        return l.tr.sender.replaceTrack(track).then(function () {
          if (old && old !== track) old.stop();
        }, function (e) {
          if (l.track === track) l.track = old;
          if (old !== track) track.stop();
          throw e;
        });
      }
      var init = { direction: 'sendonly', streams: [new MediaStream([track])] };
      var enc = source === 'camera' && simulcast ? simulcastEncodings(track) : null;
      if (enc) init.sendEncodings = enc;
      var tr = pc.addTransceiver(track, init);
      m.local[source] = { tr: tr, track: track };
      return m.negotiateUp();
    };

    // closeOwn stops capturing a source at once; the transceiver stays for
    // the next opening, so that no renegotiation is needed.
    m.closeOwn = function (source) {
      m.want[source] = false;
      var l = m.local[source];
      if (!l || !l.track) return;
      var t = l.track;
      l.track = null;
      t.onended = null;
      t.stop();
      if (l.tr && m.up && m.up.connectionState !== 'closed') l.tr.sender.replaceTrack(null).catch(function () {});
      videoObjs.forEach(function (v) { v._refresh(); });
    };

    return m;
  })();

  // ---------------------------------------------------------------------
  // Devices: mic, camera, screen.

  var videoConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  var audioConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

  // Simulcast: a camera is sent as up to three encodings, rids q (quarter
  // size), h (half) and f (full), so that the node can send each
  // subscriber the one that fits its window and its link (protocol.md
  // 9.4.5). A camera under 360 lines gets two, under 180 one. The layers
  // are fixed when the camera is first published in a session.
  var simulcast = true;

  function simulcastEncodings(track) {
    var st = track.getSettings ? track.getSettings() : {};
    var h = Math.min(st.height || 720, st.width || 1280);
    if (h >= 360) {
      return [
        { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
        { rid: 'f', maxBitrate: 1500000 }
      ];
    }
    if (h >= 180) {
      return [
        { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 150000 },
        { rid: 'f', maxBitrate: 600000 }
      ];
    }
    return null;
  }

  // switchDevice captures source from the device now chosen and sends it
  // in place of the open one (no renegotiation: watchers keep watching).
  // A device that cannot be opened is reported by NotifyMediaError and the
  // open one stays.
  function switchDevice(source) {
    var s = sess;
    media.device(source, function () {
      var have = media.localTrack(source);
      if (!have || have.readyState !== 'live' || !media.want[source] || sess !== s) return; // used at the next opening
      var st = have.getSettings ? have.getSettings() : {};
      if (chosen[source] && st.deviceId === chosen[source]) return;
      return capture(source).then(function (track) {
        if (sess !== s || !media.want[source] || media.localTrack(source) !== have) {
          track.stop();
          return;
        }
        return media.publish(source, track).then(function () {
          videoObjs.forEach(function (v) { v._refresh(); });
        });
      });
    }).catch(function (e) {
      fire('NotifyMediaError', codeOf(mediaError(e)), source);
    });
  }

  /** crvnode: the camera to capture (a deviceId of enumerateDevices; "" the default); an open camera switches at once. */
  api.CRVideo_SetCamera = function (deviceId) {
    chosen.camera = str(deviceId);
    switchDevice('camera');
  };

  /** crvnode: the microphone to capture ("" the default); an open mic switches at once. */
  api.CRVideo_SetMic = function (deviceId) {
    chosen.mic = str(deviceId);
    switchDevice('mic');
  };

  /** crvnode: the output device for the other members' sound ("" the default), where the browser supports setSinkId. */
  api.CRVideo_SetSpeaker = function (deviceId) {
    media.setSpeaker(str(deviceId));
  };

  /** crvnode: sends cameras opened from now on as simulcast layers (default) or as one encoding. */
  api.CRVideo_SetSimulcast = function (enabled) {
    simulcast = !!enabled;
  };

  function mediaError(e) {
    if (e && e.crv) return e;
    var name = e && e.name;
    var code = name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError' ?
      ERR.MEDIA_PERMISSION_DENIED : ERR.MEDIA_OPEN_FAILED;
    return rpcError(code, String(e && e.message || e));
  }

  // The devices the user chose (crvnode's CRVideo_SetCamera/SetMic); ""
  // lets the browser choose.
  var chosen = { camera: '', mic: '' };

  function withDevice(constraints, id) {
    if (!id) return constraints;
    var c = {};
    Object.keys(constraints).forEach(function (k) { c[k] = constraints[k]; });
    c.deviceId = { exact: id };
    return c;
  }

  function capture(source) {
    var md = win.navigator && win.navigator.mediaDevices;
    if (!md) return Promise.reject(rpcError(ERR.MEDIA_OPEN_FAILED, 'no media devices (a secure context is needed)'));
    var p;
    if (source === 'screen') p = md.getDisplayMedia({ video: true, audio: false });
    else if (source === 'mic') p = md.getUserMedia({ audio: withDevice(audioConstraints, chosen.mic), video: false });
    else p = md.getUserMedia({ video: withDevice(videoConstraints, chosen.camera), audio: false });
    return p.then(function (stream) {
      var t = source === 'mic' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (!t) throw rpcError(ERR.MEDIA_OPEN_FAILED, 'no track');
      return t;
    }, function (e) { throw mediaError(e); });
  }

  // openOwn captures a source, publishes it and asks the node to open it.
  function openOwn(source, method, params) {
    var s = sess;
    media.want[source] = true;
    return media.device(source, function () {
      if (!s || sess !== s || !s.meeting) throw rpcError(s ? ERR.MEETNOTEXIST : ERR.NOT_LOGIN, 'not in a meeting');
      if (!media.want[source]) throw rpcError(ERR.MEDIA_OPEN_FAILED, 'closed meanwhile');
      var have = media.localTrack(source);
      var got = have && have.readyState === 'live' ? Promise.resolve(have) : capture(source);
      return got.then(function (track) {
        if (sess !== s || !media.want[source]) {
          track.stop();
          throw rpcError(ERR.MEDIA_OPEN_FAILED, 'closed meanwhile');
        }
        if (track === have) return;
        return media.publish(source, track).then(function () {
          videoObjs.forEach(function (v) { v._refresh(); });
          if (source === 'screen') {
            track.onended = function () { if (media.localTrack('screen') === track) api.CRVideo_StopScreenShare(); };
          }
        });
      }).then(function () {
        return rpc(method, params);
      });
    });
  }

  function setOpening(kind) {
    var m = member(selfID());
    if (!m) return;
    var field = kind === 'audio' ? 'audioStatus' : 'videoStatus';
    if (m[field] === ST_OPEN || m[field] === ST_OPENING) return;
    var old = m[field];
    m[field] = ST_OPENING;
    fire(kind === 'audio' ? 'AudioStatusChanged' : 'VideoStatusChanged', m.userID, old, ST_OPENING);
  }

  function openFailed(kind, source, err) {
    media.closeOwn(source);
    var m = member(selfID());
    var field = kind === 'audio' ? 'audioStatus' : 'videoStatus';
    if (m && m[field] === ST_OPENING) {
      m[field] = ST_CLOSED;
      fire(kind === 'audio' ? 'AudioStatusChanged' : 'VideoStatusChanged', m.userID, ST_OPENING, ST_CLOSED);
    }
    fire('NotifyMediaError', codeOf(err), source);
  }

  function device(kind, source, open) {
    return function (userID) {
      var s = sess;
      if (!s || !s.loggedIn) return;
      var uid = userID === undefined || userID === null || userID === '' ? s.userID : str(userID);
      var method = (open ? 'open' : 'close') + (kind === 'audio' ? 'Mic' : 'Video');
      if (uid !== s.userID) {
        call(method, { userID: uid }, null, function (code) { warn(method, uid, 'failed', code); });
        return;
      }
      if (!open) {
        media.closeOwn(source);
        call(method, { userID: uid }, null, function (code) { warn(method, 'failed', code); });
        return;
      }
      setOpening(kind);
      openOwn(source, method, { userID: uid }).catch(function (err) { openFailed(kind, source, err); });
    };
  }

  api.CRVideo_OpenMic = device('audio', 'mic', true);
  api.CRVideo_CloseMic = device('audio', 'mic', false);
  api.CRVideo_OpenVideo = device('video', 'camera', true);
  api.CRVideo_CloseVideo = device('video', 'camera', false);

  api.CRVideo_GetAudioStatus = function (userID) {
    var m = member(userID === undefined ? selfID() : userID);
    return m ? m.audioStatus : 0;
  };

  api.CRVideo_GetVideoStatus = function (userID) {
    var m = member(userID === undefined ? selfID() : userID);
    return m ? m.videoStatus : 0;
  };

  /** The other members' open cameras (videoID 1) and screen shares (videoID 2). */
  api.CRVideo_GetWatchableVideos = function () {
    var s = sess;
    if (!s || !s.meeting) return [];
    var out = [];
    api.CRVideo_GetAllMembers().forEach(function (mi) {
      if (mi.userID === s.userID) return;
      if (mi.videoStatus === ST_OPEN) out.push({ userID: mi.userID, videoID: 1 });
      if (s.meeting.screens.has(mi.userID)) out.push({ userID: mi.userID, videoID: 2 });
    });
    return out;
  };

  api.CRVideo_StartScreenShare = function () {
    var s = sess;
    if (!s || !s.loggedIn) {
      later(function () { fire('StartScreenShareRslt', ERR.NOT_LOGIN); });
      return;
    }
    openOwn('screen', 'startScreenShare', null).then(function () {
      fire('StartScreenShareRslt', ERR.NOERR);
    }, function (err) {
      media.closeOwn('screen');
      fire('StartScreenShareRslt', codeOf(err));
    });
  };

  api.CRVideo_StopScreenShare = function () {
    media.closeOwn('screen');
    call('stopScreenShare', null,
      function () { fire('StopScreenShareRslt', ERR.NOERR); },
      function (code) { fire('StopScreenShareRslt', code); });
  };

  // ---------------------------------------------------------------------
  // Video objects: CRVideo_CreatVideoObj.

  var videoObjs = new Set();
  var watching = {}; // "userID/source" -> count of video objects watching it

  function sourceOf(videoID) {
    return Number(videoID) === 2 ? 'screen' : 'camera';
  }

  /** A UI object that shows one member's camera or screen in its own <video>. */
  function VideoObj() {
    var el = document.createElement('div');
    el.className = 'crvideo-video';
    var v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = true; // sound plays on its own, video objects show pictures only
    v.setAttribute('playsinline', '');
    v.style.width = '100%';
    v.style.height = '100%';
    v.style.objectFit = 'contain';
    v.style.background = '#000';
    el.appendChild(v);
    this._el = el;
    this._video = v;
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._track = null;
    videoObjs.add(this);
  }

  VideoObj.prototype.handler = function () {
    return this._el;
  };

  VideoObj.prototype.getUserID = function () {
    return this._userID;
  };

  VideoObj.prototype.getVideoID = function () {
    return this._videoID;
  };

  /** setVideo shows userID's camera (videoID 1, the default) or screen (videoID 2). */
  VideoObj.prototype.setVideo = function (userID, videoID) {
    var uid = str(userID);
    var vid = Number(videoID) === 2 ? 2 : 1;
    var key = uid + '/' + sourceOf(vid);
    var own = uid === selfID();
    if (key !== this._key) {
      this.clear();
      this._userID = uid;
      this._videoID = vid;
      this._key = key;
      if (!own) watching[key] = (watching[key] || 0) + 1;
    }
    if (!own && uid) {
      var h = Math.round((this._el.clientHeight || 0) * (win.devicePixelRatio || 1));
      call('setVideo', { userID: uid, videoID: vid, maxHeight: h }, null, function (code) { warn('setVideo', uid, vid, 'failed', code); });
    }
    this._refresh();
  };

  /** clear stops showing (and, if no other object shows it, receiving) the video. */
  VideoObj.prototype.clear = function () {
    var key = this._key;
    if (key && this._userID !== selfID() && watching[key]) {
      if (--watching[key] === 0) {
        delete watching[key];
        if (sess && sess.meeting) call('clearVideo', { userID: this._userID, videoID: this._videoID });
      }
    }
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._show(null);
  };

  // _reset forgets the video when the meeting ends (the node forgets it too).
  VideoObj.prototype._reset = function () {
    if (this._key) delete watching[this._key];
    this._userID = '';
    this._videoID = 0;
    this._key = '';
    this._show(null);
  };

  VideoObj.prototype._refresh = function () {
    if (!this._key) return;
    if (this._userID === selfID()) this._show(media.localTrack(sourceOf(this._videoID)));
    else this._show(media.remoteTrack(this._key));
  };

  VideoObj.prototype._show = function (track) {
    if (track === this._track) return;
    this._track = track;
    var v = this._video;
    v.srcObject = track ? new MediaStream([track]) : null;
    if (track) {
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    }
  };

  api.CRVideo_CreatVideoObj = function () {
    return new VideoObj();
  };
  api.CRVideo_CreateVideoObj = api.CRVideo_CreatVideoObj;

  // ---------------------------------------------------------------------
  // Data transfers: SendCmd, SendBuffer, SendFile. They go through the
  // transfer layer installed at crvideo._transfer (the frames of
  // datachannel/FORMAT.md, below); without one they fail with SENDFAIL.

  function transfer(kind, target, data, cookie, fileName) {
    var taskID = uuid();
    var t = ns._transfer;
    var s = sess;
    if (!t || !s || !s.loggedIn) {
      var code = s && s.loggedIn ? ERR.SENDFAIL : ERR.NOT_LOGIN;
      later(function () {
        if (kind === 'file') fire('SendFileRlst', taskID, fileName, code, cookie);
        else fire(kind === 'cmd' ? 'SendCmdRlst' : 'SendBufferRlst', taskID, code, cookie);
      });
      return taskID;
    }
    if (kind === 'cmd') t.sendCmd(taskID, str(target), data, cookie);
    else if (kind === 'buffer') t.sendBuffer(taskID, str(target), data, cookie);
    else t.sendFile(taskID, str(target), data, cookie);
    return taskID;
  }

  function fileNameOf(f) {
    return f && typeof f === 'object' && typeof f.name === 'string' ? f.name : str(f);
  }

  api.CRVideo_SendCmd = function (targetUserId, data, cookie) {
    return transfer('cmd', targetUserId, data, cookie);
  };

  api.CRVideo_SendBuffer = function (targetUserId, data, cookie) {
    return transfer('buffer', targetUserId, data, cookie);
  };

  /** file: a File or Blob (a page cannot open a file by its name). */
  api.CRVideo_SendFile = function (targetUserId, file, cookie) {
    return transfer('file', targetUserId, file, cookie, fileNameOf(file));
  };

  api.CRVideo_CancelSend = function (taskID, cookie) {
    var t = ns._transfer;
    if (!t) {
      later(function () { fire('CancelSendRlst', str(taskID), ERR.TRANSID_INVALID, cookie); });
      return;
    }
    t.cancelSend(str(taskID), cookie);
  };

  // ---------------------------------------------------------------------
  // The transfer layer: frames of datachannel/FORMAT.md on "crv-data".

  ns._transfer = (function () {
    var T = { CMD: 1, OFFER: 2, CHUNK: 3, END: 4, CREDIT: 5, RESULT: 6, CANCEL: 7 };
    var CHUNK = 16384, WINDOW = 262144, HIGH = 262144, LOW = 65536, READ = 262144;
    var MAX_CMD = 65536, MAX_BUFFER = 64 * 1048576, MAX_FILE = 4 * 1073741824, PROGRESS_EVERY = 100;
    var enc = typeof TextEncoder !== 'undefined' ? new TextEncoder() : null;
    var dec = typeof TextDecoder !== 'undefined' ? new TextDecoder() : null;

    var dc = null;
    var control = []; // frames sent before anything else
    var cmds = []; // {id, peer, data, cookie}
    var sends = []; // transfers being sent, round robin
    var waiting = {}; // id -> sender task waiting for its RESULT
    var recvs = {}; // id -> receiving task

    function utf8(s) {
      return enc.encode(s);
    }

    function bytes(data) {
      if (data instanceof Uint8Array) return data;
      if (data instanceof ArrayBuffer) return new Uint8Array(data);
      if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return utf8(typeof data === 'string' ? data : str(data));
    }

    // Frame encoding.
    function frame(type, id, body) {
      var idb = utf8(id);
      var out = new Uint8Array(2 + idb.length + body.length);
      out[0] = type;
      out[1] = idb.length;
      out.set(idb, 2);
      out.set(body, 2 + idb.length);
      return out;
    }

    function u64(n) {
      var b = new Uint8Array(8);
      var dv = new DataView(b.buffer);
      dv.setUint32(0, Math.floor(n / 4294967296));
      dv.setUint32(4, n >>> 0);
      return b;
    }

    function cat() {
      var n = 0, i;
      for (i = 0; i < arguments.length; i++) n += arguments[i].length;
      var out = new Uint8Array(n);
      n = 0;
      for (i = 0; i < arguments.length; i++) {
        out.set(arguments[i], n);
        n += arguments[i].length;
      }
      return out;
    }

    function peerBytes(peer) {
      var p = utf8(peer);
      return cat(new Uint8Array([p.length]), p);
    }

    function u16(n) {
      return new Uint8Array([(n >> 8) & 0xff, n & 0xff]);
    }

    var encode = {
      cmd: function (id, peer, data) { return frame(T.CMD, id, cat(peerBytes(peer), data)); },
      offer: function (id, kind, peer, total, name) {
        var nb = utf8(name);
        return frame(T.OFFER, id, cat(new Uint8Array([kind]), peerBytes(peer), u64(total), u16(nb.length), nb));
      },
      chunk: function (id, offset, data) { return frame(T.CHUNK, id, cat(u64(offset), data)); },
      end: function (id, sha) { return frame(T.END, id, sha); },
      credit: function (id, taken, win) {
        var w = new Uint8Array(4);
        new DataView(w.buffer).setUint32(0, win);
        return frame(T.CREDIT, id, cat(u64(taken), w));
      },
      result: function (id, code) { return frame(T.RESULT, id, u16(code)); },
      cancel: function (id, by, code) { return frame(T.CANCEL, id, cat(new Uint8Array([by]), u16(code))); }
    };

    // decode returns the frame's fields, or null if it is malformed.
    function decode(buf) {
      var b = new Uint8Array(buf);
      var dv = new DataView(buf);
      if (b.length < 3) return null;
      var type = b[0], idLen = b[1];
      if (type < 1 || type > 7 || idLen < 1 || idLen > 64 || b.length < 2 + idLen) return null;
      var id = '';
      for (var i = 0; i < idLen; i++) {
        var c = b[2 + i];
        if (!(c >= 48 && c <= 57 || c >= 65 && c <= 90 || c >= 97 && c <= 122 || c === 46 || c === 95 || c === 45)) return null;
        id += String.fromCharCode(c);
      }
      var o = 2 + idLen;
      var f = { type: type, id: id };
      function need(n) { return b.length >= o + n; }
      function rd64() {
        var hi = dv.getUint32(o), lo = dv.getUint32(o + 4);
        o += 8;
        return hi >= 2097152 ? -1 : hi * 4294967296 + lo;
      }
      function peer() {
        if (!need(1)) return null;
        var n = b[o];
        if (n < 1 || !need(1 + n)) return null;
        var p = dec.decode(b.subarray(o + 1, o + 1 + n));
        o += 1 + n;
        return p;
      }
      switch (type) {
        case T.CMD:
          if ((f.peer = peer()) === null) return null;
          f.data = b.subarray(o);
          return f.data.length <= MAX_CMD ? f : null;
        case T.OFFER:
          if (!need(1)) return null;
          f.kind = b[o++];
          if (f.kind !== 2 && f.kind !== 3) return null;
          if ((f.peer = peer()) === null || !need(10)) return null;
          f.total = rd64();
          var nl = dv.getUint16(o);
          o += 2;
          if (f.total < 0 || b.length !== o + nl || (f.kind === 3) !== (nl > 0) || nl > 1024) return null;
          f.name = dec.decode(b.subarray(o));
          return f;
        case T.CHUNK:
          if (!need(9)) return null;
          f.offset = rd64();
          f.data = b.subarray(o);
          return f.offset < 0 || f.data.length > CHUNK ? null : f;
        case T.END:
          if (b.length !== o + 32) return null;
          f.sha = b.subarray(o);
          return f;
        case T.CREDIT:
          if (b.length !== o + 12) return null;
          f.taken = rd64();
          f.window = dv.getUint32(o);
          return f.taken < 0 ? null : f;
        case T.RESULT:
          if (b.length !== o + 2) return null;
          f.code = dv.getUint16(o);
          return f;
        case T.CANCEL:
          if (b.length !== o + 3) return null;
          f.by = b[o];
          f.code = dv.getUint16(o + 1);
          return f;
      }
      return null;
    }

    // ---- sending

    function open() {
      return dc && dc.readyState === 'open';
    }

    function pump() {
      if (!open()) return;
      try {
        while (control.length) dc.send(control.shift());
        for (;;) {
          if (dc.bufferedAmount > HIGH) return; // bufferedamountlow resumes
          if (cmds.length) {
            var c = cmds.shift();
            waiting[c.id] = c;
            dc.send(encode.cmd(c.id, c.peer, c.data));
            continue;
          }
          if (!nextTransferFrame()) return;
        }
      } catch (e) {
        warn('data channel send', e);
      }
    }

    // nextTransferFrame sends one frame of the next transfer that has one
    // ready (round robin); it reports whether it sent anything.
    function nextTransferFrame() {
      for (var i = 0; i < sends.length; i++) {
        var t = sends.shift();
        sends.push(t);
        var f = transferFrame(t);
        if (f) {
          dc.send(f);
          return true;
        }
      }
      return false;
    }

    function transferFrame(t) {
      if (!t.offered) {
        t.offered = true;
        return encode.offer(t.id, t.kind, t.peer, t.total, t.name);
      }
      if (!t.accepted) return null; // nothing but the OFFER until the first CREDIT
      if (t.sent < t.total) {
        if (t.sent >= t.limit) return null;
        if (t.bufEnd - t.sent <= 0) readMore(t);
        var avail = t.bufEnd - t.sent;
        if (avail <= 0) return null; // a read is under way: it pumps when done
        var n = Math.min(CHUNK, avail, t.limit - t.sent);
        var data = t.buf.subarray(t.sent - t.bufStart, t.sent - t.bufStart + n);
        var f = encode.chunk(t.id, t.sent, data);
        t.hash.update(data);
        t.sent += n;
        if (t.bufEnd - t.sent <= 0 && t.sent < t.total) readMore(t); // read ahead
        return f;
      }
      // All sent: END, then the RESULT is awaited.
      removeSend(t);
      waiting[t.id] = t;
      return encode.end(t.id, t.hash.digest());
    }

    function readMore(t) {
      if (t.reading || t.bufEnd >= t.total) return;
      if (t.bytes) {
        t.buf = t.bytes;
        t.bufStart = 0;
        t.bufEnd = t.total;
        return;
      }
      t.reading = true;
      var start = t.bufEnd, end = Math.min(t.total, start + READ);
      t.blob.slice(start, end).arrayBuffer().then(function (ab) {
        t.reading = false;
        if (t.done) return;
        t.buf = new Uint8Array(ab);
        t.bufStart = start;
        t.bufEnd = start + ab.byteLength;
        pump();
      }, function () {
        t.reading = false;
        if (t.done) return;
        finishSend(t);
        control.push(encode.cancel(t.id, 1, ERR.FILE_READ_ERR));
        fireResult(t, ERR.FILE_READ_ERR);
        pump();
      });
    }

    function removeSend(t) {
      var i = sends.indexOf(t);
      if (i >= 0) sends.splice(i, 1);
    }

    function finishSend(t) {
      t.done = true;
      removeSend(t);
      delete waiting[t.id];
    }

    function fireResult(t, code) {
      if (t.kind === 1) fire('SendCmdRlst', t.id, code, t.cookie);
      else if (t.kind === 2) fire('SendBufferRlst', t.id, code, t.cookie);
      else fire('SendFileRlst', t.id, t.name, code, t.cookie);
    }

    function failLater(t, code) {
      later(function () { fireResult(t, code); });
    }

    function startTransfer(t) {
      t.offered = false;
      t.accepted = false;
      t.sent = 0;
      t.limit = 0;
      t.taken = 0;
      t.buf = new Uint8Array(0);
      t.bufStart = 0;
      t.bufEnd = 0;
      t.hash = sha256();
      if (!open()) {
        failLater(t, ERR.SENDFAIL);
        return;
      }
      sends.push(t);
      pump();
    }

    // ---- receiving

    function onFrame(buf) {
      var f = decode(buf);
      if (!f) return;
      var t;
      switch (f.type) {
        case T.CMD:
          control.push(encode.result(f.id, 0));
          pump();
          fire('NotifyCmdData', f.peer, dec.decode(f.data));
          return;
        case T.OFFER:
          onOffer(f);
          return;
        case T.CHUNK:
          onChunk(f);
          return;
        case T.END:
          onEnd(f);
          return;
        case T.CANCEL:
          if (recvs[f.id]) {
            delete recvs[f.id];
            fire('NotifyCancelSend', f.id);
          }
          return;
        case T.CREDIT:
          t = findSend(f.id);
          if (!t) return;
          t.accepted = true;
          t.limit = Math.max(t.limit, f.taken + f.window);
          if (f.taken > t.taken && f.taken <= t.sent) {
            t.taken = f.taken;
            var now = Date.now();
            if (t.taken === t.total || now - (t.progressAt || 0) >= PROGRESS_EVERY) {
              t.progressAt = now; // at most every PROGRESS_EVERY ms, and always at the end
              fire('SendProgress', t.id, t.taken, t.total, t.cookie);
            }
          }
          pump();
          return;
        case T.RESULT:
          t = findSend(f.id);
          if (!t) return;
          finishSend(t);
          fireResult(t, f.code);
          pump();
          return;
      }
    }

    function findSend(id) {
      if (waiting[id]) return waiting[id];
      for (var i = 0; i < sends.length; i++) if (sends[i].id === id) return sends[i];
      return null;
    }

    function onOffer(f) {
      if (recvs[f.id]) return; // a second OFFER for a task in use is ignored
      var limit = f.kind === 2 ? MAX_BUFFER : MAX_FILE;
      if (f.total > limit) {
        control.push(encode.result(f.id, f.kind === 2 ? ERR.SENDBUFFER_LARGE : ERR.FILE_SIZE_UNSUPPORT));
        pump();
        return;
      }
      recvs[f.id] = { id: f.id, kind: f.kind, peer: f.peer, total: f.total, name: f.name, parts: [], taken: 0, credited: 0, hash: sha256() };
      control.push(encode.credit(f.id, 0, WINDOW));
      pump();
    }

    function onChunk(f) {
      var r = recvs[f.id];
      if (!r) return;
      if (f.offset !== r.taken || r.taken + f.data.length > r.total) {
        delete recvs[f.id];
        control.push(encode.result(f.id, ERR.SENDFAIL));
        pump();
        return;
      }
      r.parts.push(f.data.slice());
      r.hash.update(f.data);
      r.taken += f.data.length;
      if (r.taken - r.credited >= WINDOW / 4 || r.taken === r.total) {
        r.credited = r.taken;
        control.push(encode.credit(r.id, r.taken, WINDOW));
        pump();
      }
    }

    function onEnd(f) {
      var r = recvs[f.id];
      if (!r) return;
      delete recvs[f.id];
      var sum = r.hash.digest();
      var ok = r.taken === r.total;
      for (var i = 0; ok && i < 32; i++) ok = sum[i] === f.sha[i];
      if (r.taken === r.total && r.credited !== r.taken) control.push(encode.credit(r.id, r.taken, WINDOW));
      control.push(encode.result(r.id, ok ? 0 : ERR.SENDFAIL));
      pump();
      if (!ok) return;
      if (r.kind === 2) {
        var all = new Uint8Array(r.total), o = 0;
        r.parts.forEach(function (p) { all.set(p, o); o += p.length; });
        fire('NotifyBufferData', r.peer, dec.decode(all));
      } else {
        var url = URL.createObjectURL(new Blob(r.parts));
        fire('NotifyFileData', r.peer, url, r.name);
      }
    }

    function fail(code) {
      var all = sends.concat(Object.keys(waiting).map(function (k) { return waiting[k]; })).concat(cmds);
      sends = [];
      waiting = {};
      cmds = [];
      control = [];
      all.forEach(function (t) { t.done = true; failLater(t, code); });
      var rs = Object.keys(recvs);
      recvs = {};
      rs.forEach(function (id) { later(function () { fire('NotifyCancelSend', id); }); });
    }

    return {
      _encode: encode,
      _decode: decode,
      attach: function (channel) {
        dc = channel;
        dc.binaryType = 'arraybuffer';
        dc.bufferedAmountLowThreshold = LOW;
        dc.onbufferedamountlow = pump;
        dc.onopen = pump;
        dc.onmessage = function (e) {
          if (e.data instanceof ArrayBuffer) onFrame(e.data);
        };
        dc.onclose = function () {
          if (dc === channel) fail(ERR.SENDFAIL);
        };
      },
      detach: function () {
        var d = dc;
        dc = null;
        if (d) {
          d.onmessage = d.onclose = d.onbufferedamountlow = d.onopen = null;
          try { d.close(); } catch (e) { /* closed */ }
        }
        fail(ERR.SENDFAIL);
      },
      sendCmd: function (id, peer, data, cookie) {
        var t = { kind: 1, id: id, peer: peer, data: bytes(data), cookie: cookie };
        if (!open()) return failLater(t, ERR.SENDFAIL);
        if (t.data.length > MAX_CMD) return failLater(t, ERR.SENDCMD_LARGE);
        if (!peer) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        cmds.push(t);
        pump();
      },
      sendBuffer: function (id, peer, data, cookie) {
        var b = bytes(data);
        var t = { kind: 2, id: id, peer: peer, bytes: b, total: b.length, name: '', cookie: cookie };
        if (!peer) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        startTransfer(t);
      },
      sendFile: function (id, peer, file, cookie) {
        var name = fileNameOf(file);
        var t = { kind: 3, id: id, peer: peer, name: name, cookie: cookie };
        if (typeof Blob === 'undefined' || !(file instanceof Blob)) return failLater(t, ERR.FILE_NOT_EXIST);
        if (!peer) return failLater(t, ERR.SENDDATA_TARGETINVALID);
        t.blob = file;
        t.total = file.size;
        t.name = baseName(name);
        startTransfer(t);
      },
      cancelSend: function (id, cookie) {
        var t = findSend(id);
        // A task in waiting has sent its END: the receiver may hold it
        // already, so it cannot be cancelled; its result follows.
        if (!t || t.kind === 1 || waiting[id]) {
          later(function () { fire('CancelSendRlst', id, ERR.TRANSID_INVALID, cookie); });
          return;
        }
        finishSend(t);
        control.push(encode.cancel(id, 1, 0));
        pump();
        later(function () { fire('CancelSendRlst', id, ERR.NOERR, cookie); });
      }
    };

    // baseName keeps a file name within the 1-1024 bytes the frame allows.
    function baseName(name) {
      name = str(name).replace(/^.*[\\/]/, '') || 'file';
      while (utf8(name).length > 1024) name = name.slice(0, -1);
      return name;
    }
  })();

  // sha256 is an incremental SHA-256 (WebCrypto has no streaming digest,
  // and none at all outside secure contexts).
  function sha256() {
    var K = new Uint32Array([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
    ]);
    var H = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    var W = new Uint32Array(64);
    var block = new Uint8Array(64);
    var fill = 0;
    var total = 0;

    function compress(b, off) {
      var i;
      for (i = 0; i < 16; i++) {
        W[i] = (b[off + 4 * i] << 24) | (b[off + 4 * i + 1] << 16) | (b[off + 4 * i + 2] << 8) | b[off + 4 * i + 3];
      }
      for (i = 16; i < 64; i++) {
        var w15 = W[i - 15], w2 = W[i - 2];
        var s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
        var s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      var a = H[0], bb = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (i = 0; i < 64; i++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += bb; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }

    return {
      update: function (data) {
        var i = 0, n = data.length;
        total += n;
        if (fill) {
          while (fill < 64 && i < n) block[fill++] = data[i++];
          if (fill < 64) return;
          compress(block, 0);
          fill = 0;
        }
        for (; i + 64 <= n; i += 64) compress(data, i);
        while (i < n) block[fill++] = data[i++];
      },
      digest: function () {
        var bits = total * 8;
        var pad = new Uint8Array(((fill < 56 ? 56 : 120) - fill) + 8);
        pad[0] = 0x80;
        var dv = new DataView(pad.buffer);
        dv.setUint32(pad.length - 8, Math.floor(bits / 4294967296));
        dv.setUint32(pad.length - 4, bits >>> 0);
        this.update(pad);
        var out = new Uint8Array(32);
        for (var i = 0; i < 8; i++) new DataView(out.buffer).setUint32(4 * i, H[i]);
        return out;
      }
    };
  }
  ns._sha256 = sha256;

  // ---------------------------------------------------------------------
  // Diagnostics for tests and tools: the SDK's WebRTC objects.

  ns.peerConnections = function () {
    return { up: media.up, down: media.down, dataChannel: media.dc };
  };
  ns.remoteTrack = function (userID, source) {
    return media.remoteTrack(str(userID) + '/' + (source || 'camera'));
  };

  api.crvideo = ns;

  Object.keys(api).forEach(function (k) { root[k] = api[k]; });
})(typeof CRVIDEO_MODULE_EXPORTS !== 'undefined' ? CRVIDEO_MODULE_EXPORTS : (typeof globalThis !== 'undefined' ? globalThis : window));
