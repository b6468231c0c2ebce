  // =====================================================================
  // sdk/calls.js, part of crvideo.js (web/README.md), after meetings.js:
  // calls and invites, and the call in progress that
  // CRVideo_GetSessionInfo reports.

  // ---------------------------------------------------------------------
  // The call in progress (one at a time, as the node allows): kept from
  // the SDK's own calls and the node's call events. It outlives the
  // session that made it, so that an app dropped from the node can log in
  // again and come back to its call; CRVideo_Logout forgets it.

  var lastCall = null; // {userID, callID, peerID, peerName, accepted, acceptedAt, meetingID, meetingPswd}

  // currentCall is the call of the user logged in (or of the last one,
  // while logged out).
  function currentCall() {
    var c = lastCall;
    return c && (!sess || !sess.userID || sess.userID === c.userID) ? c : null;
  }

  // callBegan records a call the user makes or is offered.
  function callBegan(callID, peerID, meetObj) {
    var s = sess;
    if (!s) return;
    var m = parsed(meetObj) || {};
    var known = member(peerID);
    lastCall = {
      userID: s.userID, callID: str(callID), peerID: str(peerID),
      peerName: assignedName(peerID) || (known ? known.nickName : ''),
      accepted: false, acceptedAt: 0,
      meetingID: Number(m.ID !== undefined ? m.ID : m.meetID) || 0, meetingPswd: str(m.pswd)
    };
    if (lastCall.meetingID) knownPswd.set(lastCall.meetingID, lastCall.meetingPswd);
  }

  function callAccepted(callID, meetObj) {
    var c = currentCall();
    if (!c || c.callID !== str(callID)) return;
    if (!c.accepted) {
      c.accepted = true;
      c.acceptedAt = Date.now();
    }
    var ref = meetRef(meetObj);
    if (ref) {
      c.meetingID = ref.ID;
      c.meetingPswd = ref.pswd;
      knownPswd.set(ref.ID, ref.pswd);
    }
  }

  function callEnded(callID) {
    var c = currentCall();
    if (c && c.callID === str(callID)) lastCall = null;
  }

  /**
   * The call in progress (SessionInfo), to come back to after a drop and
   * a new login; callID "" when there is none.
   */
  api.CRVideo_GetSessionInfo = function () {
    var c = currentCall();
    if (!c) return { callID: '', peerID: '', peerName: '', bCallAccepted: false, meetingID: 0, meetingPswd: '', duration: 0 };
    return {
      callID: c.callID, peerID: c.peerID, peerName: c.peerName, bCallAccepted: c.accepted,
      meetingID: c.meetingID, meetingPswd: c.meetingPswd,
      duration: c.accepted ? Math.floor((Date.now() - c.acceptedAt) / 1000) : 0
    };
  };

  // ---------------------------------------------------------------------
  // Calls and invites.

  api.CRVideo_Call = function (calledUserID, meetObj, usrExtDat, cookie) {
    var callID = uuid();
    var p = { callID: callID, calledUserID: str(calledUserID), usrExtDat: str(usrExtDat) };
    var ref = meetRef(meetObj);
    if (ref) p.meetObj = ref;
    callBegan(callID, p.calledUserID, ref);
    call('call', p,
      function () { fire('CallSuccess', callID, cookie); },
      function (code) {
        callEnded(callID);
        fire('CallFail', callID, code, cookie);
      });
    return callID;
  };

  api.CRVideo_AcceptCall = function (callID, meetObj, usrExtDat, cookie) {
    var p = { callID: str(callID), usrExtDat: str(usrExtDat) };
    var ref = meetRef(meetObj);
    if (ref) p.meetObj = ref;
    call('acceptCall', p,
      function () {
        callAccepted(callID, ref);
        fire('AcceptCallSuccess', str(callID), cookie);
      },
      function (code) { fire('AcceptCallFail', str(callID), code, cookie); });
  };

  api.CRVideo_RejectCall = function (callID, usrExtDat, cookie) {
    call('rejectCall', { callID: str(callID), usrExtDat: str(usrExtDat) },
      function () {
        callEnded(callID);
        fire('RejectCallSuccess', str(callID), cookie);
      },
      function (code) { fire('RejectCallFail', str(callID), code, cookie); });
  };

  api.CRVideo_HungupCall = function (callID, usrExtDat, cookie) {
    call('hungupCall', { callID: str(callID), usrExtDat: str(usrExtDat) },
      function () {
        callEnded(callID);
        fire('HangupCallSuccess', str(callID), cookie);
      },
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
