// Types for the Hello Chat widget (npm package "hello-chat").

export type HelloChatTheme = 'light' | 'dark' | 'auto';

export interface HelloChatOptions {
  /** Room id: 1-64 characters of A-Z a-z 0-9 _ - (required). */
  room: string;
  /** Display name; ignored when a signed `token` carries one. Default "Anonymous". */
  name?: string;
  /** Site id registered on the server (default: the server's default site). */
  site?: string;
  /** Server origin, e.g. "https://chat.example.com". Default: where the script came from (npm: the page's origin). */
  server?: string;
  /** Signed identity (JWT, HS256) minted by your backend. */
  token?: string;
  /** Colour scheme; "auto" follows the visitor's system setting. Default "auto". */
  theme?: HelloChatTheme;
  /** BCP 47 locale for times and the UI language, e.g. "de-DE". Default: the browser's. */
  locale?: string;
  /** Layout direction. Default: right to left for Arabic, Hebrew, Persian and Urdu. */
  dir?: 'ltr' | 'rtl';
  /** Replace any UI text (see the README for the keys; plural forms as `online.one`, …). */
  strings?: Partial<Record<HelloChatStringKey, string>> & Record<string, string>;
  /**
   * Opt-in notifications: `title` shows the unread count in the page title; `sound` shows a
   * sound toggle (off until the visitor turns it on); `desktop` shows a bell that asks for
   * permission when clicked, then notifies while the page is hidden: every message (`true`)
   * or only those mentioning the visitor (`'mentions'`).
   */
  notify?: { title?: boolean; sound?: boolean; desktop?: boolean | 'mentions' };
  /** Composer placeholder. */
  placeholder?: string;
  /** Widget height: a CSS length or a number of pixels. Default 420px. */
  height?: string | number;
  /**
   * Keep an anonymous visitor the same sender across reloads and tabs (default true);
   * false for shared devices such as kiosks.
   */
  rememberVisitor?: boolean;
}

export type HelloChatStringKey =
  | 'title' | 'placeholder' | 'messageLabel' | 'send' | 'logLabel' | 'connecting' | 'reconnecting'
  | 'reconnectingIn' | 'offline' | 'reconnected' | 'failed' | 'online' | 'typing' | 'newMessages' | 'newCount' | 'loadEarlier'
  | 'empty' | 'pending' | 'notSent' | 'retry' | 'discard' | 'counter' | 'counterOver' | 'announce' | 'verified'
  | 'roleModerator' | 'roleBot' | 'edited' | 'deleted' | 'actions' | 'actionsMenu' | 'reactWith' | 'reaction'
  | 'replyQuote' | 'reply' | 'edit' | 'delete' | 'remove' | 'mute' | 'ban' | 'unmute' | 'unban' | 'save' | 'cancel' | 'editLabel'
  | 'muteWho' | 'banWho' | 'duration' | 'minutes10' | 'hour1' | 'day1' | 'forGood' | 'reason' | 'replyingTo'
  | 'cancelReply' | 'mentionList' | 'muted' | 'mutedForGood' | 'bannedUntil' | 'muteEnded' | 'locked' | 'slowMode' | 'lockedModerator' | 'slowModeModerator' | 'noticeDelete' | 'noticeEdit'
  | 'noticeMute' | 'noticeMuteUntil' | 'noticeUnmute' | 'noticeBan' | 'noticeBanUntil' | 'noticeUnban' | 'noticePurge' | 'noticePurgeAnon' | 'noticeSlow'
  | 'noticeSlowOff' | 'noticeLock' | 'noticeUnlock' | 'noticeReason' | 'someone' | 'attach' | 'attachments' | 'altLabel'
  | 'removeFile' | 'preparing' | 'uploading' | 'openImage' | 'viewer' | 'close' | 'attached' | 'tooManyFiles'
  | 'typingTwo' | 'typingMany' | 'notifySound' | 'notifyDesktop' | 'noticeErased' | 'seenBy' | 'seenByNames'
  | 'noticePin' | 'noticeUnpin' | 'pinned' | 'goToPinned' | 'pin' | 'unpin'
  | 'hideWho' | 'unhideWho' | 'hiddenMessage' | 'reveal'
  | 'report' | 'reportWhy' | 'reportSpam' | 'reportHarassment' | 'reportOther' | 'reportedMark' | 'reportedSay'
  | 'reportCount' | 'reportNew' | 'dismissReports';

export type HelloChatRole = 'moderator' | 'bot';

export interface HelloChatReaction {
  emoji: string;
  count: number;
  /** Whether this visitor reacted with it. */
  mine: boolean;
}

/** A file sent with a message. */
export interface HelloChatAttachment {
  name: string;
  /** Its type, as the server found it (e.g. "image/jpeg", "application/pdf"). */
  mime: string;
  /** Size in bytes. */
  size: number;
  /** Images: size in pixels. */
  width?: number;
  height?: number;
  /** Alternative text (images), from the file name unless the sender changed it. */
  alt: string;
  /** Where to fetch it: a signed URL on the chat server, valid for hours (absent when not known yet). */
  url?: string;
}

export interface HelloChatMessage {
  seq: number;
  id: string;
  name: string;
  message: string;
  /** Milliseconds since the epoch, set by the server. */
  timestamp: number;
  /** The sender's opaque key in this room (the same for all their messages). */
  sender: string;
  /** Sent under a signed identity. */
  verified: boolean;
  role?: HelloChatRole;
  /** When it was last edited (ms since the epoch). */
  edited?: number;
  /** Deleted: `message` is empty. */
  deleted: boolean;
  reactions: HelloChatReaction[];
  replyTo?: { seq: number; name: string; excerpt: string };
  /** Files sent with it (none once it is deleted). */
  attachments: HelloChatAttachment[];
  /** True for this visitor's messages (by sender key, never by name). */
  own: boolean;
  /** The message mentions the visitor (`@name`). */
  mentionsMe: boolean;
  /** The widget only: from a member this visitor hid ("Hide messages from …"). */
  hidden?: true;
}

/** A message's new state after an edit, delete or reaction; `eventSeq` is the change's own seq. */
export interface HelloChatUpdate extends HelloChatMessage {
  eventSeq: number;
}

export interface HelloChatModerationEvent {
  seq: number;
  /** `edit`: a moderator edited someone else's message. */
  action: 'delete' | 'edit' | 'mute' | 'unmute' | 'ban' | 'unban' | 'purge' | 'slow' | 'lock' | 'unlock' | 'pin' | 'unpin';
  target?: number;
  sender?: string;
  name?: string;
  /** Until when a mute or ban lasts (ms since the epoch); absent = for good. */
  until?: number;
  /** Slow mode's interval (0 = off). */
  seconds?: number;
  /** The moderator's name. */
  by: string;
  /** The moderator's sender key. */
  bySender?: string;
  reason?: string;
  /** A `purge` that erased `sender` at their request (GDPR). */
  erased: boolean;
}

export type HelloChatStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface HelloChatStatusEvent {
  status: HelloChatStatus;
  /** For "failed": the close code (4001 token, 4003 origin, 4004 site). */
  code?: number;
  /** For "failed": why, in words. */
  reason?: string;
  /** For "failed" after a timed ban (4008): when it ends (ms since the epoch,
   * this device's clock); the client joins again then. */
  until?: number;
  /** For "reconnecting": milliseconds until the next attempt. */
  retryIn?: number;
  /** For "reconnecting": the browser says it is offline (the widget shows "Offline"). */
  offline?: boolean;
}

export interface HelloChatErrorEvent {
  code: string;
  message: string;
  /** Client id of the message concerned, if any. */
  id?: string;
  /** `muted`: until when (ms since the epoch). */
  until?: number;
  /** Milliseconds to wait, when the room says so (a message sent in slow mode is held, not refused). */
  retryAfter?: number;
}

export interface HelloChatMember {
  sender: string;
  name: string;
  verified: boolean;
  role?: HelloChatRole;
}

export interface HelloChatPresenceEvent {
  online: number;
  joined?: string;
  left?: string;
  /** Who is here (the first 100). */
  members: HelloChatMember[];
}

export interface HelloChatEvents {
  message: HelloChatMessage;
  update: HelloChatUpdate;
  moderation: HelloChatModerationEvent;
  status: HelloChatStatusEvent;
  error: HelloChatErrorEvent;
  presence: HelloChatPresenceEvent;
  unread: { count: number };
  /**
   * Moderators: open reports of messages (`all`: every message with any, replacing what was
   * known, on joining or after a large erasure; else the messages whose count changed, 0 when
   * dismissed). A deleted message has none.
   */
  reports: { reports: { target: number; reports: number; reasons: Partial<Record<'spam' | 'harassment' | 'other', number>> }[]; all: boolean };
}

export interface HelloChatHandle {
  /** Messages from others not seen yet. */
  readonly unread: number;
  /** Send a message. Returns its client id, or undefined while the widget is still loading (it is queued). */
  send(text: string): string | undefined;
  /**
   * Send a file (images are downscaled to 2048 px first), with optional text. Resolves to its
   * client id, or undefined if it was refused (an `error` event says why).
   */
  sendFile(file: Blob, text?: string): Promise<string | undefined>;
  /** Reply to message `seq`. */
  reply(seq: number, text: string): string | undefined;
  /** Change the text of your message `seq` (moderators: any message). */
  edit(seq: number, text: string): string | undefined;
  /** Delete your message `seq` (moderators: any message). */
  remove(seq: number): string | undefined;
  /** Add (`on`, default true) or take back a reaction. */
  react(seq: number, emoji: string, on?: boolean): string | undefined;
  on<E extends keyof HelloChatEvents>(event: E, fn: (detail: HelloChatEvents[E]) => void): HelloChatHandle;
  off<E extends keyof HelloChatEvents>(event: E, fn: (detail: HelloChatEvents[E]) => void): HelloChatHandle;
  /** Remove every node, listener, timer and socket the widget created. */
  destroy(): void;
}

/** A headless client's events: the widget's, plus what its view would show. */
export interface HelloChatClientEvents extends HelloChatEvents {
  /** Joined (after every reconnect too): who the room takes you for. `presence` follows. */
  welcome: { name: string; sender: string; verified: boolean; role?: HelloChatRole };
  /** A message of yours was queued (shown as "sending" until `sent`). */
  pending: { id: string; text: string };
  sent: { id: string; seq: number };
  /** A queued message goes by a new id (retried after an id conflict). */
  renamed: { id: string; newId: string };
  /** A message of yours was refused for good: `retry(id)` or `discard(id)`. */
  failed: HelloChatErrorEvent & { id: string };
  typing: { name: string; sender?: string };
  /** What the room lets you do: on joining and whenever a moderator or the site changes it. */
  room: {
    locked: boolean;
    /** Seconds between two messages (0: off). */
    slowMode: number;
    /** Muted until then (ms since the epoch; Infinity: for good). */
    mutedUntil?: number;
    /** Seconds during which you may edit your message. */
    editWindow: number;
    emoji: string[];
    /** The file types the site accepts, as an HTML accept list ("" for none). */
    accept?: string;
    /** The largest file the site accepts, in bytes (absent: it takes no files). */
    maxFileBytes?: number;
    maxMessageChars: number;
    /** The message a moderator pinned above the list, shaped like a `message` event (absent: none). */
    pinned?: HelloChatMessage;
  };
  /** The answer to `loadEarlier()`: older messages, oldest first (none, `more: false`: nothing is older). */
  older: { messages: HelloChatMessage[]; more: boolean };
  /** Read receipts (when the site turns them on): `sender` has read up to `seq`. */
  receipt: { sender: string; name: string; seq: number };
  /** A file of message `id` is uploading: `loaded` of `total` bytes. */
  progress: { id: string; loaded: number; total: number };
}

/**
 * `HelloChat.connect(options)`: the chat without any UI. Methods return `undefined` while the
 * client loads (the call is queued) and after `close()` (it does nothing). A `seq` that is not a
 * message's, text that is not a string or a number, or `on` without a function throws a `TypeError`.
 */
export interface HelloChatClient {
  readonly unread: number;
  send(text: string): string | undefined;
  /** Send a file as it is (no downscaling), with optional text. */
  sendFile(file: Blob, text?: string): string | undefined;
  /** Drop a queued message, even while its file uploads. */
  cancel(id: string): boolean | undefined;
  reply(seq: number, text: string): string | undefined;
  edit(seq: number, text: string): string | undefined;
  remove(seq: number): string | undefined;
  react(seq: number, emoji: string, on?: boolean): string | undefined;
  /** Report someone else's message to the moderators (once per message; a repeat is acked). */
  report(seq: number, reason: 'spam' | 'harassment' | 'other', note?: string): string | undefined;
  /**
   * A moderator's action (moderator tokens only; the room refuses anyone else with an `error`):
   * `moderate('pin', { target: 42 })`, `moderate('mute', { sender, seconds: 600, reason: 'spam' })`.
   */
  moderate(
    action: Exclude<HelloChatModerationEvent['action'], 'edit'> | 'dismiss',
    fields?: { target?: number; sender?: string; seconds?: number; reason?: string },
  ): string | undefined;
  retry(id: string): boolean | undefined;
  discard(id: string): boolean | undefined;
  /**
   * Ask for the messages before the oldest received. `true`: an `older` event answers (at once,
   * empty, when nothing is older; after reconnecting, when disconnected). `false`: not joined yet.
   */
  loadEarlier(): boolean | undefined;
  /** The visitor has seen everything up to `seq` (the unread count follows). */
  markRead(seq: number): void;
  typing(): void;
  on<E extends keyof HelloChatClientEvents>(event: E, fn: (detail: HelloChatClientEvents[E]) => void): HelloChatClient;
  off<E extends keyof HelloChatClientEvents>(event: E, fn: (detail: HelloChatClientEvents[E]) => void): HelloChatClient;
  /** Close the connection; stop every timer and listener. */
  close(): void;
  /** The same as `close()`, as the widget's handle names it. */
  destroy(): void;
}

export interface HelloChatApi {
  mount(el: Element, options: HelloChatOptions): HelloChatHandle;
  /** Connect without a UI (`room`, `name`, `site`, `server`, `token` as for `mount`). */
  connect(options: Pick<HelloChatOptions, 'room' | 'name' | 'site' | 'server' | 'token'>): HelloChatClient;
  readonly version: string;
}

export declare const HelloChat: HelloChatApi;
export default HelloChat;
