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
  /** BCP 47 locale for times, e.g. "de-DE". Default: the browser's. */
  locale?: string;
  /** Replace any UI text (see the README for the keys). */
  strings?: Partial<Record<HelloChatStringKey, string>>;
  /** Composer placeholder. */
  placeholder?: string;
  /** Widget height: a CSS length or a number of pixels. Default 420px. */
  height?: string | number;
}

export type HelloChatStringKey =
  | 'title' | 'placeholder' | 'messageLabel' | 'send' | 'logLabel' | 'connecting' | 'reconnecting'
  | 'reconnectingIn' | 'offline' | 'failed' | 'online' | 'typing' | 'newMessages' | 'loadEarlier'
  | 'empty' | 'pending' | 'notSent' | 'retry' | 'discard' | 'counter' | 'announce';

export interface HelloChatMessage {
  seq: number;
  id: string;
  name: string;
  message: string;
  /** Milliseconds since the epoch, set by the server. */
  timestamp: number;
  /** True for messages this widget sent. */
  own: boolean;
}

export type HelloChatStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

export interface HelloChatStatusEvent {
  status: HelloChatStatus;
  /** For "failed": the close code (4001 token, 4003 origin, 4004 site). */
  code?: number;
  /** For "failed": why, in words. */
  reason?: string;
  /** For "reconnecting": milliseconds until the next attempt. */
  retryIn?: number;
}

export interface HelloChatErrorEvent {
  code: string;
  message: string;
  /** Client id of the message concerned, if any. */
  id?: string;
}

export interface HelloChatPresenceEvent {
  online: number;
  joined?: string;
  left?: string;
}

export interface HelloChatEvents {
  message: HelloChatMessage;
  status: HelloChatStatusEvent;
  error: HelloChatErrorEvent;
  presence: HelloChatPresenceEvent;
}

export interface HelloChatHandle {
  /** Send a message. Returns its client id, or undefined while the widget is still loading (it is queued). */
  send(text: string): string | undefined;
  on<E extends keyof HelloChatEvents>(event: E, fn: (detail: HelloChatEvents[E]) => void): HelloChatHandle;
  off<E extends keyof HelloChatEvents>(event: E, fn: (detail: HelloChatEvents[E]) => void): HelloChatHandle;
  /** Remove every node, listener, timer and socket the widget created. */
  destroy(): void;
}

export interface HelloChatApi {
  mount(el: Element, options: HelloChatOptions): HelloChatHandle;
  readonly version: string;
}

export declare const HelloChat: HelloChatApi;
export default HelloChat;
