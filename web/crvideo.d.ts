// Type declarations of crvideo.js, crvnode's browser SDK for the CRVideo API.
//
// crvideo.js is a classic script: these names are globals. The ES module
// build, crvideo.mjs, exports the same names (its declarations are served
// as crvideo.d.mts).
//
// Every callback is an object whose `callback` field the app assigns; one
// handler per event, assigning again replaces it. `cookie` arguments never
// leave the page: they come back in the callback of the call that took them.
// `sdkEr` is a CRVideo error code (0 is success), see the CRVIDEOSDK_*
// constants.

/** A meeting (CRVideo_MeetInfoObj). */
interface CRVideoMeetInfoObj {
  /** Meeting number; 0 means no meeting. */
  ID: number;
  /** Password, "" when none. */
  pswd: string;
  /** Subject, at most 50 characters. */
  subject: string;
  /** Public link to join the meeting. */
  pubMeetUrl: string;
  /** userID of the creator. */
  creator: string;
  /** Members in the meeting when the object was made. */
  memberCount: number;
  /** Creation time, seconds since the Unix epoch. */
  startTime: number;
}

/** What functions taking a meeting read of it: its ID and password. A JSON string of it is accepted too. */
type CRVideoMeetRef = Pick<CRVideoMeetInfoObj, "ID" | "pswd"> & Partial<CRVideoMeetInfoObj>;

/** One member of the meeting the user is in. */
interface CRVideoMemberInfo {
  userID: string;
  nickName: string;
  /** The same as nickName (older documents' spelling). */
  nickname: string;
  /** ASTATUS: 0 unknown, 1 no mic, 2 closed, 3 open, 4 opening. */
  audioStatus: number;
  /** VSTATUS: 0 unknown, 1 no camera, 2 closed, 3 open, 4 opening. */
  videoStatus: number;
}

/** A user's presence. */
interface CRVideoUserStatus {
  userID: string;
  /** 0 offline, 1 online idle, 2 online busy (ringing or in a call), 3 online in a meeting. */
  userStatus: number;
  /** Do-not-disturb: 0 off, any other value on (its meaning is the app's). */
  DNDType: number;
}

/** A video that a video object can show. */
interface CRVideoWatchableVideo {
  userID: string;
  /** 1 the member's camera, 2 its screen share. */
  videoID: number;
}

/** A UI object that shows one member's camera or screen (CRVideo_CreatVideoObj). */
interface CRVideoVideoObj {
  /**
   * Shows userID's camera (videoID 1, the default) or screen share
   * (videoID 2). For another member the node is asked for the video, sized
   * to the element's height; for the user itself the local capture shows.
   */
  setVideo(userID: string, videoID?: number): void;
  /** Stops showing the video (and receiving it, if no other object shows it). */
  clear(): void;
  /** The object's DOM element: a <div class="crvideo-video"> holding a <video>. Put it in the page. */
  handler(): HTMLDivElement;
  /** The member shown, "" when none. */
  getUserID(): string;
  /** The video shown (1 or 2), 0 when none. */
  getVideoID(): number;
}

/** A callback object: assign its `callback`. */
interface CRVideoCallback<F extends (...args: any[]) => void> {
  /** The callback's full name, e.g. "CRVideo_LoginSuccess". */
  readonly name: string;
  /** The app's handler; null for none. */
  callback: F | null;
}

/**
 * The transfer layer behind SendCmd, SendBuffer, SendFile and CancelSend.
 * crvideo.js installs one that speaks the frames of crvnode's
 * datachannel/FORMAT.md on the "crv-data" data channel; a replacement can
 * be set before login.
 */
interface CRVideoTransferLayer {
  attach(channel: RTCDataChannel): void;
  detach(): void;
  sendCmd(taskID: string, targetUserId: string, data: string | ArrayBuffer | ArrayBufferView, cookie?: string): void;
  sendBuffer(taskID: string, targetUserId: string, data: string | ArrayBuffer | ArrayBufferView, cookie?: string): void;
  sendFile(taskID: string, targetUserId: string, file: Blob, cookie?: string): void;
  cancelSend(taskID: string, cookie?: string): void;
}

/** The crvideo namespace: version and diagnostics. */
interface CRVideoNamespace {
  readonly version: string;
  /** The transfer layer (see CRVideoTransferLayer). */
  _transfer: CRVideoTransferLayer;
  /** The SDK's WebRTC objects, for diagnostics and tests. */
  peerConnections(): { up: RTCPeerConnection | null; down: RTCPeerConnection | null; dataChannel: RTCDataChannel | null };
  /** The track received of a member's source ("mic", "camera" or "screen"), or null. */
  remoteTrack(userID: string, source?: string): MediaStreamTrack | null;
}

declare const crvideo: CRVideoNamespace;

// ---------------------------------------------------------------------------
// Initialisation and login.

/** Optional: the SDK works without it. Returns 0. */
declare function CRVideo_Init(): number;
/** Logs out and turns the SDK off until CRVideo_Init. */
declare function CRVideo_Uninit(): void;
/**
 * The node's address: "host:port", a list separated by ";" tried in order,
 * or http(s)/ws(s) URLs. Without one, the page's own host is used.
 */
declare function CRVideo_SetServerAddr(addr: string): void;
/** The address set, or the page's own host. */
declare function CRVideo_GetServerAddr(): string;
/**
 * Logs in. appSecret must be the MD5 (lower-case hex) of the app's secret,
 * as the vendor SDK requires: the page computes it. userAuthCode: "" (or
 * " ") without third-party authentication, else a token.
 */
declare function CRVideo_Login(appID: string, appSecret: string, nickName: string, userID: string, userAuthCode?: string, cookie?: string): void;
/** Logs in with an HS256 token whose claims name the app (appID) and the user (sub). */
declare function CRVideo_LoginByToken(token: string, nickName: string, userID?: string, userAuthCode?: string, cookie?: string): void;
/** Logs out and closes the connection. */
declare function CRVideo_Logout(): void;

declare const CRVideo_LoginSuccess: CRVideoCallback<(userID: string, cookie: string) => void>;
declare const CRVideo_LoginFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** The session ended: 10 logged in elsewhere, 206 node shutting down, 207 connection lost. */
declare const CRVideo_LineOff: CRVideoCallback<(sdkEr: number) => void>;

// ---------------------------------------------------------------------------
// Presence and do-not-disturb.

declare function CRVideo_SetDNDStatus(DNDStatus: number, cookie?: string): void;
declare function CRVideo_GetUserStatus(cookie?: string): void;
declare function CRVideo_StartUserStatusNotify(cookie?: string): void;
declare function CRVideo_StopUserStatusNotify(cookie?: string): void;

declare const CRVideo_SetDNDStatusSuccess: CRVideoCallback<(cookie: string) => void>;
declare const CRVideo_SetDNDStatusFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_GetUserStatusSuccess: CRVideoCallback<(userStatus: CRVideoUserStatus[], cookie: string) => void>;
declare const CRVideo_GetUserStatusFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_StartUserStatusNotifyRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_StopUserStatusNotifyRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** A user's presence or DND changed; cookie is the one given to CRVideo_StartUserStatusNotify. */
declare const CRVideo_NotifyUserStatus: CRVideoCallback<(userStatus: CRVideoUserStatus, cookie: string) => void>;

// ---------------------------------------------------------------------------
// Meetings and members.

/** createPswd 0: no password, above 0: the node makes one. CreateMeeting(meetSubject, cookie) works too. */
declare function CRVideo_CreateMeeting(meetSubject: string, createPswd?: number, cookie?: string): void;
declare function CRVideo_DestroyMeeting(meetID: number, cookie?: string): void;
/** Lists the meetings the user created. */
declare function CRVideo_GetMeetings(cookie?: string): void;
declare function CRVideo_EnterMeeting(meetID: number, pswd?: string, userID?: string, nickName?: string, cookie?: string): void;
declare function CRVideo_ExitMeeting(): void;
/** The members of the meeting the user is in, sorted by userID (a local query). */
declare function CRVideo_GetAllMembers(): CRVideoMemberInfo[];
/** One member, or null. */
declare function CRVideo_GetMemberInfo(userID: string): CRVideoMemberInfo | null;
/** A member's nickname, "" if not a member. */
declare function CRVideo_GetMemberNickName(userID: string): string;
declare function CRVideo_IsUserInMeeting(userID: string): boolean;
/** The meeting's creator removes a member. */
declare function CRVideo_Kickout(userID: string, cookie?: string): void;
/** Sends a message to every member of the meeting, the sender included. */
declare function CRVideo_SendMeetingCustomMsg(msg: string, cookie?: string): void;

declare const CRVideo_CreateMeetingSuccess: CRVideoCallback<(meetObj: CRVideoMeetInfoObj, cookie: string) => void>;
declare const CRVideo_CreateMeetingFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_DestroyMeetingRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** The same object as CRVideo_DestroyMeetingRslt. */
declare const CRVideo_StopMeetingRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_GetMeetingsSuccess: CRVideoCallback<(meetings: CRVideoMeetInfoObj[], cookie: string) => void>;
declare const CRVideo_GetMeetingsFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_EnterMeetingRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_UserEnterMeeting: CRVideoCallback<(userID: string) => void>;
declare const CRVideo_UserLeftMeeting: CRVideoCallback<(userID: string) => void>;
/** The creator destroyed the meeting the user was in. */
declare const CRVideo_MeetingStopped: CRVideoCallback<(meetID: number) => void>;
/** The user was removed from the meeting: 0 timeout, 1 kicked out, 2 balance, 3 token invalid. */
declare const CRVideo_MeetingDropped: CRVideoCallback<(reason: number) => void>;
declare const CRVideo_KickoutRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_SendMeetingCustomMsgRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_NotifyMeetingCustomMsg: CRVideoCallback<(userID: string, msg: string) => void>;

// ---------------------------------------------------------------------------
// Calls and invites.

/** Rings calledUserID; returns the call ID at once. */
declare function CRVideo_Call(calledUserID: string, meetObj?: CRVideoMeetRef | string | null, usrExtDat?: string, cookie?: string): string;
declare function CRVideo_AcceptCall(callID: string, meetObj?: CRVideoMeetRef | string | null, usrExtDat?: string, cookie?: string): void;
declare function CRVideo_RejectCall(callID: string, usrExtDat?: string, cookie?: string): void;
/** Ends a call or invite from either side (note the spelling; CRVideo_HangupCall is the same function). */
declare function CRVideo_HungupCall(callID: string, usrExtDat?: string, cookie?: string): void;
declare function CRVideo_HangupCall(callID: string, usrExtDat?: string, cookie?: string): void;
/** Invites a user into a meeting (the current one when meetObj is absent); returns the invite ID. */
declare function CRVideo_CallMoreParty(called: string, meetObj?: CRVideoMeetRef | string | null, usrExtDat?: string, cookie?: string): string;
/** The second document's name of CRVideo_CallMoreParty; its results come to the ClientInvite callbacks. */
declare function CRVideo_ClientInvite(called: string, meetObj?: CRVideoMeetRef | string | null, cookie?: string): string;
declare function CRVideo_CancelCallMoreParty(inviteID: string, usrExtDat?: string, cookie?: string): void;
declare function CRVideo_ClientCancelInvite(inviteID: string, cookie?: string): void;

declare const CRVideo_CallSuccess: CRVideoCallback<(callID: string, cookie: string) => void>;
declare const CRVideo_CallFail: CRVideoCallback<(callID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_AcceptCallSuccess: CRVideoCallback<(callID: string, cookie: string) => void>;
declare const CRVideo_AcceptCallFail: CRVideoCallback<(callID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_RejectCallSuccess: CRVideoCallback<(callID: string, cookie: string) => void>;
declare const CRVideo_RejectCallFail: CRVideoCallback<(callID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_HangupCallSuccess: CRVideoCallback<(callID: string, cookie: string) => void>;
declare const CRVideo_HangupCallFail: CRVideoCallback<(callID: string, sdkEr: number, cookie: string) => void>;
/** Someone calls or invites the user (for an invite, callID is the invite ID). */
declare const CRVideo_NotifyCallIn: CRVideoCallback<(callID: string, meetObj: CRVideoMeetInfoObj, callerID: string, usrExtDat: string) => void>;
declare const CRVideo_NotifyCallAccepted: CRVideoCallback<(callID: string, meetObj: CRVideoMeetInfoObj, usrExtDat: string) => void>;
/** sdkErr 606: rejected; 604: no answer. */
declare const CRVideo_NotifyCallRejected: CRVideoCallback<(callID: string, sdkErr: number, usrExtDat: string) => void>;
declare const CRVideo_NotifyCallHungup: CRVideoCallback<(callID: string, usrExtDat: string) => void>;
declare const CRVideo_CallMorePartyRslt: CRVideoCallback<(inviteID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_CancelCallMorePartyRslt: CRVideoCallback<(inviteID: string, sdkEr: number, cookie: string) => void>;
/** Invite status (invites made with CallMoreParty): 0 ringing, 1 accepted, 2 rejected, 3 no answer, 4 hung up. */
declare const CRVideo_NotifyCallMorePartyStatus: CRVideoCallback<(inviteID: string, status: number) => void>;
declare const CRVideo_ClientInviteRslt: CRVideoCallback<(inviteID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_ClientCancelInviteRslt: CRVideoCallback<(inviteID: string, sdkEr: number, cookie: string) => void>;
/** Invite status (invites made with ClientInvite): as CRVideo_NotifyCallMorePartyStatus. */
declare const CRVideo_NotifyInviteStatus: CRVideoCallback<(inviteID: string, status: number) => void>;

// ---------------------------------------------------------------------------
// Media.

/** Opens a member's mic: the user's own is captured and published first (it goes to 4, opening, then 3). */
declare function CRVideo_OpenMic(userID: string): void;
/** Closes a member's mic (own: capture stops at once; the meeting's creator may close anyone's). */
declare function CRVideo_CloseMic(userID: string): void;
/** Opens a member's camera: the user's own is captured and published first. */
declare function CRVideo_OpenVideo(userID: string): void;
declare function CRVideo_CloseVideo(userID: string): void;
/**
 * crvnode: whether the user's camera is sent as simulcast layers (rids q, h
 * and f at a quarter, half and full size; two layers under 360 lines, one
 * under 180), so that each watcher gets the size that fits its window and
 * link. On by default; applies to the first camera published in a session.
 */
declare function CRVideo_SetSimulcast(enabled: boolean): void;
/**
 * crvnode: the camera to capture, a `deviceId` from
 * `navigator.mediaDevices.enumerateDevices()` ("" lets the browser choose).
 * An open camera switches at once, without renegotiation; a device that
 * cannot be opened is reported by CRVideo_NotifyMediaError and the open
 * camera stays.
 */
declare function CRVideo_SetCamera(deviceId: string): void;
/** crvnode: the microphone to capture ("" the default); as CRVideo_SetCamera. */
declare function CRVideo_SetMic(deviceId: string): void;
/** crvnode: the audio output for the other members' sound ("" the default), where the browser supports setSinkId. */
declare function CRVideo_SetSpeaker(deviceId: string): void;
/** ASTATUS of a member, 0 if not in the meeting. */
declare function CRVideo_GetAudioStatus(userID: string): number;
/** VSTATUS of a member, 0 if not in the meeting. */
declare function CRVideo_GetVideoStatus(userID: string): number;
/** The other members' open cameras (videoID 1) and screen shares (videoID 2). */
declare function CRVideo_GetWatchableVideos(): CRVideoWatchableVideo[];
/** Shares the screen (the browser asks the user what to share). */
declare function CRVideo_StartScreenShare(): void;
declare function CRVideo_StopScreenShare(): void;
/** Creates a video object; put its handler() element in the page. */
declare function CRVideo_CreatVideoObj(): CRVideoVideoObj;
/** The same function as CRVideo_CreatVideoObj. */
declare function CRVideo_CreateVideoObj(): CRVideoVideoObj;

declare const CRVideo_AudioStatusChanged: CRVideoCallback<(userID: string, oldStatus: number, newStatus: number) => void>;
declare const CRVideo_VideoStatusChanged: CRVideoCallback<(userID: string, oldStatus: number, newStatus: number) => void>;
/** A member's speaking level changed (0-10). */
declare const CRVideo_MicEnergyUpdate: CRVideoCallback<(userID: string, oldLevel: number, newLevel: number) => void>;
declare const CRVideo_StartScreenShareRslt: CRVideoCallback<(sdkEr: number) => void>;
declare const CRVideo_StopScreenShareRslt: CRVideoCallback<(sdkEr: number) => void>;
declare const CRVideo_NotifyScreenShareStarted: CRVideoCallback<(userID: string) => void>;
declare const CRVideo_NotifyScreenShareStopped: CRVideoCallback<(userID: string) => void>;
/**
 * crvnode: the user's own mic (source "mic") or camera ("camera") could not
 * be opened: 8002 permission denied, 8007 device failed, or the node's code
 * (800 not in a meeting). Screen sharing reports in StartScreenShareRslt.
 */
declare const CRVideo_NotifyMediaError: CRVideoCallback<(sdkEr: number, source: string) => void>;

// ---------------------------------------------------------------------------
// Data transfers between users.

/** Sends a small command (at most 64 KiB); returns the task ID. Result: CRVideo_SendCmdRlst. */
declare function CRVideo_SendCmd(targetUserId: string, data: string | ArrayBuffer | ArrayBufferView, cookie?: string): string;
/** Sends data in chunks, with progress; returns the task ID. Result: CRVideo_SendBufferRlst. */
declare function CRVideo_SendBuffer(targetUserId: string, data: string | ArrayBuffer | ArrayBufferView, cookie?: string): string;
/** Sends a File or Blob, with progress; returns the task ID. Result: CRVideo_SendFileRlst. */
declare function CRVideo_SendFile(targetUserId: string, file: Blob, cookie?: string): string;
/** Cancels a SendBuffer or SendFile task. Result: CRVideo_CancelSendRlst; 1104 for an unknown task, a command, or a transfer sent in full (its own result follows). */
declare function CRVideo_CancelSend(taskID: string, cookie?: string): void;

declare const CRVideo_SendCmdRlst: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
/** The same object as CRVideo_SendCmdRlst. */
declare const CRVideo_SendCmdRslt: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_SendBufferRlst: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
/** The same object as CRVideo_SendBufferRlst. */
declare const CRVideo_SendBufferRslt: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_SendFileRlst: CRVideoCallback<(taskID: string, fileName: string, sdkEr: number, cookie: string) => void>;
/** The same object as CRVideo_SendFileRlst. */
declare const CRVideo_SendFileRslt: CRVideoCallback<(taskID: string, fileName: string, sdkEr: number, cookie: string) => void>;
/** Progress of a SendBuffer or SendFile: what the receiver has taken. */
declare const CRVideo_SendProgress: CRVideoCallback<(taskID: string, sendedLen: number, totalLen: number, cookie: string) => void>;
declare const CRVideo_CancelSendRlst: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
/** The same object as CRVideo_CancelSendRlst. */
declare const CRVideo_CancelSendRslt: CRVideoCallback<(taskID: string, sdkEr: number, cookie: string) => void>;
declare const CRVideo_NotifyCmdData: CRVideoCallback<(sourceUserId: string, data: string) => void>;
declare const CRVideo_NotifyBufferData: CRVideoCallback<(sourceUserId: string, data: string) => void>;
/** A file arrived: tmpFile is a blob: URL of its content (revoke it with URL.revokeObjectURL when done). */
declare const CRVideo_NotifyFileData: CRVideoCallback<(sourceUserId: string, tmpFile: string, orgFileName: string) => void>;
/** The sender cancelled a transfer to the user, or it failed. */
declare const CRVideo_NotifyCancelSend: CRVideoCallback<(taskID: string) => void>;

// ---------------------------------------------------------------------------
// Error codes (sdkEr), in both spellings.

declare const CRVIDEOSDK_NOERR: 0;
declare const CRVIDEOSDK_UNKNOWERR: 1;
declare const CRVIDEOSDK_OUTOF_MEM: 2;
declare const CRVIDEOSDK_INNER_ERR: 3;
declare const CRVIDEOSDK_MISMATCHCLIENTVER: 4;
declare const CRVIDEOSDK_PARAM_ERR: 5;
declare const CRVIDEOSDK_ERR_DATA: 6;
declare const CRVIDEOSDK_ANCTPSWD_ERR: 7;
declare const CRVIDEOSDK_SERVER_EXCEPTION: 8;
declare const CRVIDEOSDK_LOGINSTATE_ERROR: 9;
declare const CRVIDEOSDK_USER_BEEN_KICKOUT: 10;
declare const CRVIDEOSDK_NOT_INIT: 11;
declare const CRVIDEOSDK_NOT_LOGIN: 12;
declare const CRVIDEOSDK_CUSTOMAUTH_NOINFO: 14;
declare const CRVIDEOSDK_CUSTOMAUTH_NOTSUPPORT: 15;
declare const CRVIDEOSDK_CUSTOMAUTH_FAILED: 17;
declare const CRVIDEOSDK_TOKEN_TIMEOUT: 18;
declare const CRVIDEOSDK_TOKEN_AUTHINFOERR: 19;
declare const CRVIDEOSDK_TOKEN_APPIDNOTEXIST: 20;
declare const CRVIDEOSDK_TOKEN_AUTH_FAILED: 21;
declare const CRVIDEOSDK_API_NO_PERMISSION: 23;
declare const CRVIDEOSDK_NETWORK_INITFAILED: 200;
declare const CRVIDEOSDK_NOSERVER_RSP: 202;
declare const CRVIDEOSDK_CREATE_CONN_FAILED: 203;
declare const CRVIDEOSDK_SOCKETEXCEPTION: 204;
declare const CRVIDEOSDK_SOCKETTIMEOUT: 205;
declare const CRVIDEOSDK_FORCEDCLOSECONNECTION: 206;
declare const CRVIDEOSDK_CONNECTIONLOST: 207;
declare const CRVIDEOSDK_INVALID_CALLID: 600;
declare const CRVIDEOSDK_ERR_CALL_EXIST: 601;
declare const CRVIDEOSDK_ERR_BUSY: 602;
declare const CRVIDEOSDK_ERR_OFFLINE: 603;
declare const CRVIDEOSDK_ERR_NOANSWER: 604;
declare const CRVIDEOSDK_ERR_USER_NOT_FOUND: 605;
declare const CRVIDEOSDK_ERR_REFUSE: 606;
declare const CRVIDEOSDK_MEETNOTEXIST: 800;
declare const CRVIDEOSDK_AUTHERROR: 801;
declare const CRVIDEOSDK_MEMBEROVERFLOWERROR: 802;
declare const CRVIDEOSDK_RESOURCEALLOCATEERROR: 803;
declare const CRVIDEOSDK_MEETROOMLOCKED: 804;
declare const CRVIDEOSDK_ALREADYLOGIN: 807;
declare const CRVIDEOSDK_SENDFAIL: 1000;
declare const CRVIDEOSDK_SENDCMD_LARGE: 1100;
declare const CRVIDEOSDK_SENDBUFFER_LARGE: 1101;
declare const CRVIDEOSDK_SENDDATA_TARGETINVALID: 1102;
declare const CRVIDEOSDK_SENDFILE_FILEINERROR: 1103;
declare const CRVIDEOSDK_TRANSID_INVALID: 1104;
declare const CRVIDEOSDK_FILE_NOT_EXIST: 1400;
declare const CRVIDEOSDK_FILE_READ_ERR: 1401;
declare const CRVIDEOSDK_FILE_WRITE_ERR: 1402;
declare const CRVIDEOSDK_FILE_SIZE_UNSUPPORT: 1405;
declare const CRVIDEOSDK_MEDIA_PERMISSION_DENIED: 8002;
declare const CRVIDEOSDK_MEDIA_OPEN_FAILED: 8007;

declare const CRVideo_NOERR: 0;
declare const CRVideo_UNKNOWERR: 1;
declare const CRVideo_OUTOF_MEM: 2;
declare const CRVideo_INNER_ERR: 3;
declare const CRVideo_MISMATCHCLIENTVER: 4;
declare const CRVideo_PARAM_ERR: 5;
declare const CRVideo_ERR_DATA: 6;
declare const CRVideo_ANCTPSWD_ERR: 7;
declare const CRVideo_SERVER_EXCEPTION: 8;
declare const CRVideo_LOGINSTATE_ERROR: 9;
declare const CRVideo_USER_BEEN_KICKOUT: 10;
declare const CRVideo_NOT_INIT: 11;
declare const CRVideo_NOT_LOGIN: 12;
declare const CRVideo_CUSTOMAUTH_NOINFO: 14;
declare const CRVideo_CUSTOMAUTH_NOTSUPPORT: 15;
declare const CRVideo_CUSTOMAUTH_FAILED: 17;
declare const CRVideo_TOKEN_TIMEOUT: 18;
declare const CRVideo_TOKEN_AUTHINFOERR: 19;
declare const CRVideo_TOKEN_APPIDNOTEXIST: 20;
declare const CRVideo_TOKEN_AUTH_FAILED: 21;
declare const CRVideo_API_NO_PERMISSION: 23;
declare const CRVideo_NETWORK_INITFAILED: 200;
declare const CRVideo_NOSERVER_RSP: 202;
declare const CRVideo_CREATE_CONN_FAILED: 203;
declare const CRVideo_SOCKETEXCEPTION: 204;
declare const CRVideo_SOCKETTIMEOUT: 205;
declare const CRVideo_FORCEDCLOSECONNECTION: 206;
declare const CRVideo_CONNECTIONLOST: 207;
declare const CRVideo_INVALID_CALLID: 600;
declare const CRVideo_ERR_CALL_EXIST: 601;
declare const CRVideo_ERR_BUSY: 602;
declare const CRVideo_ERR_OFFLINE: 603;
declare const CRVideo_ERR_NOANSWER: 604;
declare const CRVideo_ERR_USER_NOT_FOUND: 605;
declare const CRVideo_ERR_REFUSE: 606;
declare const CRVideo_MEETNOTEXIST: 800;
declare const CRVideo_AUTHERROR: 801;
declare const CRVideo_MEMBEROVERFLOWERROR: 802;
declare const CRVideo_RESOURCEALLOCATEERROR: 803;
declare const CRVideo_MEETROOMLOCKED: 804;
declare const CRVideo_ALREADYLOGIN: 807;
declare const CRVideo_SENDFAIL: 1000;
declare const CRVideo_SENDCMD_LARGE: 1100;
declare const CRVideo_SENDBUFFER_LARGE: 1101;
declare const CRVideo_SENDDATA_TARGETINVALID: 1102;
declare const CRVideo_SENDFILE_FILEINERROR: 1103;
declare const CRVideo_TRANSID_INVALID: 1104;
declare const CRVideo_FILE_NOT_EXIST: 1400;
declare const CRVideo_FILE_READ_ERR: 1401;
declare const CRVideo_FILE_WRITE_ERR: 1402;
declare const CRVideo_FILE_SIZE_UNSUPPORT: 1405;
declare const CRVideo_MEDIA_PERMISSION_DENIED: 8002;
declare const CRVideo_MEDIA_OPEN_FAILED: 8007;
