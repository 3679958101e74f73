//! The widget's UI text. English by default; a site passes `strings` to
//! translate or reword any of them. `{n}`, `{name}`, `{s}` and `{reason}` are
//! filled in.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

pub struct Strings {
    overrides: Option<Object>,
}

fn default(key: &str) -> &'static str {
    match key {
        "title" => "Chat",
        "placeholder" => "Write a message…",
        "messageLabel" => "Message",
        "send" => "Send",
        "logLabel" => "Messages",
        "connecting" => "Connecting…",
        "reconnecting" => "Reconnecting…",
        "reconnectingIn" => "Reconnecting in {s} s",
        "offline" => "Offline. Messages will be sent when you are back online.",
        "failed" => "Can't connect: {reason}",
        "online" => "{n} online",
        "typing" => "{name} is typing…",
        "newMessages" => "New messages",
        "loadEarlier" => "Load earlier messages",
        "empty" => "No messages yet. Say hello!",
        "pending" => "Sending…",
        "notSent" => "Not sent: {reason}",
        "retry" => "Retry",
        "discard" => "Discard",
        "counter" => "{n} characters left",
        "announce" => "{name}: {text}",
        "verified" => "Verified",
        "roleModerator" => "Mod",
        "roleBot" => "Bot",
        "edited" => "(edited)",
        "deleted" => "Message deleted",
        "actions" => "Actions for {name}'s message",
        "actionsMenu" => "Message actions",
        "reactWith" => "React with {emoji}",
        "reaction" => "{emoji} {n}: toggle your reaction",
        "replyQuote" => "Reply to {name}: show the original",
        "reply" => "Reply",
        "edit" => "Edit",
        "delete" => "Delete",
        "remove" => "Remove",
        "mute" => "Mute",
        "ban" => "Ban",
        "save" => "Save",
        "cancel" => "Cancel",
        "editLabel" => "Edit your message",
        "muteWho" => "Mute {name}",
        "banWho" => "Ban {name}",
        "duration" => "Duration",
        "minutes10" => "10 minutes",
        "hour1" => "1 hour",
        "day1" => "1 day",
        "forGood" => "For good",
        "reason" => "Reason (optional)",
        "replyingTo" => "Replying to {name}: {text}",
        "cancelReply" => "Cancel reply",
        "mentionList" => "People to mention",
        "muted" => "You are muted until {time}.",
        "mutedForGood" => "You are muted in this room.",
        "locked" => "This room is read-only.",
        "slowMode" => "Slow mode: one message every {s} s.",
        "noticeDelete" => "A message was removed by a moderator.",
        "noticeMute" => "{name} was muted by {by}.",
        "noticeUnmute" => "{name} can write again.",
        "noticeBan" => "{name} was banned by {by}.",
        "noticeUnban" => "{name} was unbanned.",
        "noticePurge" => "Messages from {name} were removed by {by}.",
        "noticeSlow" => "{by} turned on slow mode ({s} s).",
        "noticeSlowOff" => "{by} turned off slow mode.",
        "noticeLock" => "{by} made the room read-only.",
        "noticeUnlock" => "{by} reopened the room.",
        "someone" => "Someone",
        _ => "",
    }
}

impl Strings {
    pub fn new(overrides: Option<Object>) -> Self {
        Strings { overrides }
    }

    pub fn get(&self, key: &str) -> String {
        self.overrides
            .as_ref()
            .and_then(|o| Reflect::get(o, &JsValue::from_str(key)).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| default(key).to_owned())
    }

    /// The string for `key` with `{var}` placeholders replaced.
    pub fn fill(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let template = self.get(key);
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').and_then(|close| {
                vars.iter()
                    .find(|(k, _)| *k == &after[..close])
                    .map(|(_, v)| (close, v))
            }) {
                Some((close, value)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}
