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

/** A UI object that shows one member's camera or screen (CRVideo_CreatVideoObj, CRVideo_CreatScreenShareObj). */
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
  /**
   * The picture shown now, as a data: URL: PNG (the default) or JPEG
   * ("jpg", "jpeg"); other formats give PNG. "" while no picture shows.
   */
  savePicToBase64(format?: string): string;
  /** Clears the object, removes its element from the page; the object is not used again. */
  destroy(): void;
  /** Sets the element's id; without an argument, returns it. */
  id(value?: string): string | void;
  /** Sets the element's width (a number is CSS pixels); without an argument, returns it in pixels. */
  width(value?: number | string): number | void;
  /** Sets the element's height; without an argument, returns it in pixels. */
  height(value?: number | string): number | void;
  /** true (the default): the whole picture shows; false: it fills the element. Without an argument, returns it. */
  keepAspectRatio(value?: boolean): boolean | void;
}

/** What CRVideo_CreatVideoObj and CRVideo_CreatScreenShareObj take (the current generation's). */
interface CRVideoVideoObjOptions {
  /** An image shown until the video plays. */
  poster?: string;
}

/** A member's camera, as CRVideo_GetAllVideoInfo lists it. */
interface CRVideoVideoInfo {
  userID: string;
  /** The user's own: 1, 2, … in the browser's order; another member's: 1. */
  videoID: number;
  /** The camera's label ("camera 1", … before the user allowed a device); "" for another member's. */
  videoName: string;
}

/** The camera's settings (CRVideo_GetVideoCfg). */
interface CRVideoVideoCfg {
  /** "width*height". */
  size: string;
  width: number;
  height: number;
  fps: number;
  /** The most the full size sends, bits per second; 0: the SDK's own choice. */
  maxbps: number;
  /** 0 16:9, 1 4:3, 2 1:1: the width of a size given as a height. */
  wh_rate: number;
}

/**
 * What CRVideo_SetVideoCfg takes: any of the fields. size is "1280*720"
 * (or "1280x720"), {width, height}, or a height (720) at the wh_rate's
 * width; sizeType is read as size when size is absent.
 */
interface CRVideoVideoCfgIn {
  size?: string | number | { width: number; height: number };
  sizeType?: string | number;
  fps?: number;
  maxbps?: number;
  wh_rate?: number;
  [other: string]: unknown;
}

/** The microphone's settings (CRVideo_GetAudioCfg); 1 on, 0 off. */
interface CRVideoAudioCfg {
  /** A name of CRVideo_GetAudioMicNames; "" the default. */
  micName: string;
  /** A name of CRVideo_GetAudioSpkNames; "" the default. */
  speakerName: string;
  /** Echo cancellation. */
  aec: number;
  /** Noise suppression. */
  ans: number;
  /** Automatic gain control. */
  agc: number;
  /** The same as aec. */
  privEC: number;
  /** The same as agc. */
  privAgc: number;
}

/** A queue (CRVideo_GetAllQueueInfo). */
interface CRVideoQueueInfo {
  queID: number;
  name: string;
  desc: string;
  /** Smaller is served first. */
  prio: number;
}

/** A queue's counts. */
interface CRVideoQueStatus {
  queID: number;
  /** Agents serving the queue. */
  agent_num: number;
  /** Customers waiting in it. */
  wait_num: number;
  /** Its agents holding an assignment or in a call that came from it. */
  srv_num: number;
}

/** The user's place in a queue; queID 0 and position 0 when not queuing. */
interface CRVideoQueuingInfo {
  queID: number;
  /** 1: next. */
  position: number;
  /** Seconds waited so far. */
  queuingTime: number;
}

/** A customer assigned to an agent. */
interface CRVideoQueUser {
  queID: number;
  userID: string;
  nickname: string;
  /** Seconds the customer waited. */
  queuingTime: number;
  usrExtDat: string;
}

/** The call in progress (CRVideo_GetSessionInfo); callID "" when none. */
interface CRVideoSessionInfo {
  callID: string;
  peerID: string;
  /** The peer's nickname, where the SDK knows it (an assigned customer, a member); else "". */
  peerName: string;
  bCallAccepted: boolean;
  meetingID: number;
  meetingPswd: string;
  /** Seconds since the call was accepted; 0 before. */
  duration: number;
}

/**
 * The SDK parameters (CRVideo_Init, CRVideo_SetSDKParams). crvnode keeps the
 * vendor's but needs none; upIdleTimeout is crvnode's.
 */
interface CRVideoSDKParams {
  /** 0 auto, 1 UDP, 2 TCP. */
  MSProtocol?: number;
  /**
   * crvnode: milliseconds (default 30000) after which the up connection
   * closes while the user is in no meeting, publishes nothing and no
   * transfer is under way; 0 or less: it stays open until logout. It
   * opens again when next needed (a meeting entered, a publish, a send,
   * or data the node holds for the user).
   */
  upIdleTimeout?: number;
  [other: string]: unknown;
}

/**
 * What CRVideo_Init returns: a Promise that resolves (with 0) once the
 * browser's devices are listed, or rejects with an Error whose code (and
 * valueOf()) is 8004 in a browser without WebRTC or WebSocket. Its own
 * valueOf() is 0, so CRVideo_Init() == CRVideo_NOERR holds.
 */
interface CRVideoInitPromise extends Promise<number> {
  valueOf(): 0;
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
 * be set before login. The channel is attached when the up connection
 * opens (on demand: a send opens it, and a layer keeps what is sent before
 * the channel is open) and detached when it closes.
 */
interface CRVideoTransferLayer {
  attach(channel: RTCDataChannel): void;
  detach(): void;
  /**
   * Whether a transfer is under way in either direction (queued, awaiting
   * its result, being received). The up connection closes when idle only
   * while it is false; a layer without it keeps the connection open.
   */
  busy?(): boolean;
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
  /** The SDK's WebRTC objects, for diagnostics and tests (up and dataChannel are null while no up connection is open). */
  peerConnections(): { up: RTCPeerConnection | null; down: RTCPeerConnection | null; dataChannel: RTCDataChannel | null };
  /** The track received of a member's source ("mic", "camera" or "screen"), or null. */
  remoteTrack(userID: string, source?: string): MediaStreamTrack | null;
}

declare const crvideo: CRVideoNamespace;

// ---------------------------------------------------------------------------
// Initialisation and login.

/** Optional: the SDK works without it. See CRVideoInitPromise. */
declare function CRVideo_Init(SDKParams?: CRVideoSDKParams | string): CRVideoInitPromise;
declare function CRVideo_SetSDKParams(params: CRVideoSDKParams | string): void;
/** The SDK's version (crvideo.version). */
declare function CRVideo_GetSDKVersion(): string;
/** Writes a line to the browser console. */
declare function CRVideo_WriteLog(text: string): void;
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
/** A fresh token for a session logged in with CRVideo_LoginByToken (same app, same user); its expiry becomes the session's. */
declare function CRVideo_UpdateToken(token: string, cookie?: string): void;

declare const CRVideo_LoginSuccess: CRVideoCallback<(userID: string, cookie: string) => void>;
declare const CRVideo_LoginFail: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** The session ended: 10 logged in elsewhere, 206 node shutting down, 207 connection lost. */
declare const CRVideo_LineOff: CRVideoCallback<(sdkEr: number) => void>;
/** crvnode's: the connection to the node was lost and the SDK resumes the session (0), or it is back (10). A session not resumed within the node's grace window ends with CRVideo_LineOff(207). */
declare const CRVideo_NetStateChanged: CRVideoCallback<(level: number) => void>;
declare const CRVideo_UpdateTokenRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** The token of the session expires soon (the node's tokenWarning before): call CRVideo_UpdateToken. */
declare const CRVideo_NotifyTokenWillExpire: CRVideoCallback<() => void>;

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
/** Creates a meeting without password, its subject the user's nickname (CreateMeetingSuccess / CreateMeetingFail). */
declare function CRVideo_CreateMeeting2(cookie?: string): void;
/** Enters a meeting as the logged-in user with its login nickname (EnterMeetingRslt); a password the page has seen for it is given. */
declare function CRVideo_EnterMeeting3(meetID: number, cookie?: string): void;
/** Renames the user (its own userID only); CRVideo_NotifyNickNameChanged follows. */
declare function CRVideo_SetNickName(userID: string, nickName: string): void;
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
/** A member of the user's meeting, or the user, changed its nickname. */
declare const CRVideo_NotifyNickNameChanged: CRVideoCallback<(userID: string, oldName: string, newName: string) => void>;

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
declare function CRVideo_CreatVideoObj(opts?: CRVideoVideoObjOptions): CRVideoVideoObj;
/** The same function as CRVideo_CreatVideoObj. */
declare function CRVideo_CreateVideoObj(opts?: CRVideoVideoObjOptions): CRVideoVideoObj;
/** Creates a video object for screen shares: its setVideo(sharerID) shows the sharer's screen. */
declare function CRVideo_CreatScreenShareObj(opts?: CRVideoVideoObjOptions): CRVideoVideoObj;
/** The same function as CRVideo_CreatScreenShareObj. */
declare function CRVideo_CreateScreenShareObj(opts?: CRVideoVideoObjOptions): CRVideoVideoObj;
/** A member's cameras: the user's own are the browser's; another member has the one the node carries (videoID 1). */
declare function CRVideo_GetAllVideoInfo(userID?: string): CRVideoVideoInfo[];
/** The user's chosen camera (its videoID of CRVideo_GetAllVideoInfo); for another member 1, or 0 without camera. */
declare function CRVideo_GetDefaultVideo(userID?: string): number;
/** Chooses the user's camera by its videoID of CRVideo_GetAllVideoInfo; an open camera switches at once. */
declare function CRVideo_SetDefaultVideo(userID: string, videoID: number): void;
declare function CRVideo_GetVideoCfg(): CRVideoVideoCfg;
/** Applied at once to an open camera (its constraints, its sender's encodings) and to those opened later. */
declare function CRVideo_SetVideoCfg(cfg: CRVideoVideoCfgIn | string): void;
declare function CRVideo_GetAudioCfg(): CRVideoAudioCfg;
/** Any of the fields of CRVideoAudioCfg: the mic and speaker by name, and the processing. */
declare function CRVideo_SetAudioCfg(cfg: Partial<CRVideoAudioCfg> | string): void;
/** The microphones' names (labels once the user allowed a device, "mic 1", … before). */
declare function CRVideo_GetAudioMicNames(): string[];
/** The speakers' names. */
declare function CRVideo_GetAudioSpkNames(): string[];

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
/** The user's camera could not be opened (with CRVideo_NotifyMediaError): the code, a description, the camera (1). */
declare const CRVideo_OpenVideoFailed: CRVideoCallback<(sdkEr: number, errDesc: string, videoID: number) => void>;
/** The user's microphone could not be opened (with CRVideo_NotifyMediaError). */
declare const CRVideo_OpenMicFailed: CRVideoCallback<(sdkEr: number, errDesc: string) => void>;

// ---------------------------------------------------------------------------
// Queues (the queue component): customers queue, agents serve queues, the
// node assigns waiting customers to free agents, who then call them.

/** Loads the app's queues, their statuses, the user's place and the queues it serves; usable after InitQueueDatRslt. */
declare function CRVideo_InitQueueDat(cookie?: string): void;
/** The app's queues (a local query, after CRVideo_InitQueueDat). */
declare function CRVideo_GetAllQueueInfo(): CRVideoQueueInfo[];
/** Asks for every queue's status: CRVideo_QueueStatusChanged follows for each. */
declare function CRVideo_RefreshAllQueueStatus(): void;
/** Asks for a queue's status (CRVideo_GetQueueStatusRslt); returns the status last known. */
declare function CRVideo_GetQueueStatus(queID: number, cookie?: string): CRVideoQueStatus;
/** The user's place in a queue (a local query). */
declare function CRVideo_GetQueuingInfo(): CRVideoQueuingInfo;
/** The queues the user serves (a local query). */
declare function CRVideo_GetServingQueues(): number[];
/** The call in progress (a local query). */
declare function CRVideo_GetSessionInfo(): CRVideoSessionInfo;
/** Queues as a customer (in one queue at a time); StartQueuing(queID, cookie) works too. */
declare function CRVideo_StartQueuing(queID: number, usrExtDat?: string, cookie?: string): void;
declare function CRVideo_StartQueuing2(queID: number, usrExtDat?: string, cookie?: string): void;
declare function CRVideo_StopQueuing(cookie?: string): void;
/** Serves a queue as an agent; priority 0-1000, 0 highest. StartService(queID, cookie) works too. */
declare function CRVideo_StartService(queID: number, priority?: number, cookie?: string): void;
declare function CRVideo_StartService2(queID: number, priority?: number, cookie?: string): void;
declare function CRVideo_StopService(queID: number, cookie?: string): void;
/** Asks for the next customer (agents with do-not-disturb on). */
declare function CRVideo_ReqAssignUser(cookie?: string): void;
declare function CRVideo_AcceptAssignUser(queID: number, userID: string, cookie?: string): void;
declare function CRVideo_RejectAssignUser(queID: number, userID: string, cookie?: string): void;

declare const CRVideo_InitQueueDatRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** On failure queStatus has the queID and zero counts. */
declare const CRVideo_GetQueueStatusRslt: CRVideoCallback<(queStatus: CRVideoQueStatus, sdkEr: number, cookie: string) => void>;
declare const CRVideo_StartQueuingRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_StopQueuingRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
declare const CRVideo_StartServiceRslt: CRVideoCallback<(queID: number, sdkEr: number, cookie: string) => void>;
declare const CRVideo_StopServiceRslt: CRVideoCallback<(queID: number, sdkEr: number, cookie: string) => void>;
/** queUser is null on failure (401 nobody waiting, 403 serving no queue). */
declare const CRVideo_ReqAssignUserRslt: CRVideoCallback<(sdkEr: number, queUser: CRVideoQueUser | null, cookie: string) => void>;
declare const CRVideo_ResponseAssignUserRslt: CRVideoCallback<(sdkEr: number, cookie: string) => void>;
/** The node assigned a customer to the agent (do-not-disturb off): accept or reject it. */
declare const CRVideo_AutoAssignUser: CRVideoCallback<(queUser: CRVideoQueUser) => void>;
/** The customer assigned stopped queuing or went offline before the agent answered. */
declare const CRVideo_CancelAssignUser: CRVideoCallback<(queID: number, userID: string) => void>;
declare const CRVideo_QueueStatusChanged: CRVideoCallback<(queStatus: CRVideoQueStatus) => void>;
/** The user's place changed (queID 0: it no longer waits, e.g. an agent took it). */
declare const CRVideo_QueuingInfoChanged: CRVideoCallback<(queuingInfo: CRVideoQueuingInfo) => void>;

// ---------------------------------------------------------------------------
// Not implemented by crvnode: defined so that apps calling them get an
// answer, never a ReferenceError. Each warns once on the console and fails
// with CRVIDEOSDK_NOT_IMPLEMENTED (8100).

/** Server recording: returns a mixerID; CRVideo_CreateCloudMixerFailed(mixerID, 8100) follows. */
declare function CRVideo_CreateCloudMixer(cfg?: unknown): string;
/** Returns 8100. */
declare function CRVideo_UpdateCloudMixerContent(mixerID?: string, cfg?: unknown): number;
/** Returns 8100. */
declare function CRVideo_DestroyCloudMixer(mixerID?: string): number;
/** Returns []. */
declare function CRVideo_GetAllCloudMixerInfo(): unknown[];
/** Returns null. */
declare function CRVideo_GetCloudMixerInfo(mixerID?: string): null;

declare const CRVideo_CreateCloudMixerFailed: CRVideoCallback<(mixerID: string, sdkEr: number) => void>;
/** Never fires (not implemented). */
declare const CRVideo_CloudMixerStateChanged: CRVideoCallback<(mixerID: string, state: number, exParam: unknown, operUserID: string) => void>;
/** Never fires (not implemented). */
declare const CRVideo_CloudMixerOutputInfoChanged: CRVideoCallback<(mixerID: string, outputInfo: unknown) => void>;
/** Never fires (not implemented). */
declare const CRVideo_CloudMixerInfoChanged: CRVideoCallback<(mixerID: string) => void>;

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
declare const CRVIDEOSDK_QUEUE_ID_ERR: 400;
declare const CRVIDEOSDK_QUEUE_NOUSER: 401;
declare const CRVIDEOSDK_QUEUE_USERCANCELLED: 402;
declare const CRVIDEOSDK_QUEUE_SERVICE_NOT_START: 403;
declare const CRVIDEOSDK_QUEUE_ALREADYQUEUING: 404;
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
declare const CRVIDEOSDK_BROWSER_NOT_SUPPORTED: 8004;
declare const CRVIDEOSDK_MEDIA_OPEN_FAILED: 8007;
/** crvnode: a function crvnode does not implement. */
declare const CRVIDEOSDK_NOT_IMPLEMENTED: 8100;

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
declare const CRVideo_QUEUE_ID_ERR: 400;
declare const CRVideo_QUEUE_NOUSER: 401;
declare const CRVideo_QUEUE_USERCANCELLED: 402;
declare const CRVideo_QUEUE_SERVICE_NOT_START: 403;
declare const CRVideo_QUEUE_ALREADYQUEUING: 404;
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
declare const CRVideo_BROWSER_NOT_SUPPORTED: 8004;
declare const CRVideo_MEDIA_OPEN_FAILED: 8007;
/** crvnode: a function crvnode does not implement. */
declare const CRVideo_NOT_IMPLEMENTED: 8100;
