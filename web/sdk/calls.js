  // =====================================================================
  // sdk/calls.js, part of crvideo.js (web/README.md), after meetings.js:
  // calls and invites.

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
