  // =====================================================================
  // sdk/events.js, part of crvideo.js (web/README.md), before tail.js: the
  // events the node sends, each handled by the part it concerns.

  // ---------------------------------------------------------------------
  // Events from the node. CRVideo_NetStateChanged (0 lost, 10 back) is
  // the SDK's own, fired by the resume of core.js, not by a node event.

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
    notifyCallIn: function (p) {
      notePswd(p.meetObj);
      if (!currentCall() || !currentCall().accepted) callBegan(p.callID, p.callerID, p.meetObj);
      fire('NotifyCallIn', p.callID, p.meetObj, p.callerID, p.usrExtDat);
    },
    notifyCallAccepted: function (p) {
      notePswd(p.meetObj);
      callAccepted(p.callID, p.meetObj);
      fire('NotifyCallAccepted', p.callID, p.meetObj, p.usrExtDat);
    },
    notifyCallRejected: function (p) {
      callEnded(p.callID);
      fire('NotifyCallRejected', p.callID, p.sdkErr, p.usrExtDat);
    },
    notifyCallHungup: function (p) {
      callEnded(p.callID);
      fire('NotifyCallHungup', p.callID, p.usrExtDat);
    },
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
    notifyNickNameChanged: function (p) { nickNameChanged(p); },
    notifyTokenWillExpire: function () { fire('NotifyTokenWillExpire'); },
    autoAssignUser: function (p) { queueEvent.autoAssign(p); },
    cancelAssignUser: function (p) { queueEvent.cancelAssign(p); },
    queueStatusChanged: function (p) { queueEvent.status(p); },
    queuingInfoChanged: function (p) { queueEvent.queuing(p); },
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
    // data waits on the node for this user: open the up connection (with
    // its crv-data channel) unless it is open or opening
    upNeeded: function () { media.needUp(); },
    downOffer: function (p) { media.downOffer(p); },
    downCandidate: function (p) { media.downCandidate(p.candidate); }
  };

  function onEvent(method, params) {
    var h = events[method];
    if (h) h(params);
  }
