  // =====================================================================
  // sdk/meetings.js, part of crvideo.js (web/README.md), after login.js:
  // creating, entering and leaving meetings, and the member list the SDK
  // keeps while in one.

  // ---------------------------------------------------------------------
  // Meetings and the member list.

  // knownPswd keeps the password of every meeting the page has seen (made,
  // listed, called into), so that CRVideo_EnterMeeting3, which takes none,
  // can enter a meeting that has one.
  var knownPswd = new Map(); // meetID -> pswd

  function notePswd(meetObj) {
    var ref = meetRef(meetObj);
    if (ref) knownPswd.set(ref.ID, ref.pswd);
  }

  /** CreateMeeting(meetSubject, createPswd, cookie); the older form CreateMeeting(meetSubject, cookie) works too. */
  api.CRVideo_CreateMeeting = function (meetSubject, createPswd, cookie) {
    if (arguments.length === 2 && typeof createPswd === 'string' && !/^\s*\d+\s*$/.test(createPswd)) {
      cookie = createPswd;
      createPswd = 0;
    }
    call('createMeeting', { meetSubject: str(meetSubject), createPswd: Math.max(0, Math.trunc(Number(createPswd)) || 0) },
      function (res) {
        notePswd(res.meetObj);
        fire('CreateMeetingSuccess', res.meetObj, cookie);
      },
      function (code) { fire('CreateMeetingFail', code, cookie); });
  };

  api.CRVideo_DestroyMeeting = function (meetID, cookie) {
    call('destroyMeeting', { meetID: Math.trunc(Number(meetID)) || 0 },
      function () { fire('DestroyMeetingRslt', ERR.NOERR, cookie); },
      function (code) { fire('DestroyMeetingRslt', code, cookie); });
  };

  api.CRVideo_GetMeetings = function (cookie) {
    call('getMeetings', null,
      function (res) {
        (res.meetings || []).forEach(notePswd);
        fire('GetMeetingsSuccess', res.meetings || [], cookie);
      },
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
      media.needUp(); // what the user publishes goes on it
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
    media.upActivity(); // idle from now on, unless a transfer is under way
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
