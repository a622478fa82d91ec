//! A fast, allocation-light reading of Claude Code transcript lines for the history index:
//! only what the sessions list and the search need (ids, times, cwd, branch, model, prompts,
//! assistant text, usage, titles, reported cost).
//!
//! Hand-written serde visitors: every field is read leniently (a field of an unexpected type
//! is skipped, never an error), and everything else is skipped without being built, so a
//! tool result carrying a whole file costs a scan, not an allocation.

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A string, or nothing when the value is of another type.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LStr<'a>(pub Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for LStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number (or boolean), or nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct LNum {
    pub num: Option<f64>,
    pub boolean: Option<bool>,
}

impl LNum {
    pub fn u64(&self) -> u64 {
        self.num.filter(|n| *n >= 0.0).map_or(0, |n| n as u64)
    }
}

impl<'de> de::Deserialize<'de> for LNum {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LNum;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<LNum, E> {
                Ok(LNum {
                    num: None,
                    boolean: Some(v),
                })
            }
            fn visit_i64<E>(self, v: i64) -> Result<LNum, E> {
                Ok(LNum {
                    num: Some(v as f64),
                    boolean: None,
                })
            }
            fn visit_u64<E>(self, v: u64) -> Result<LNum, E> {
                Ok(LNum {
                    num: Some(v as f64),
                    boolean: None,
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<LNum, E> {
                Ok(LNum {
                    num: Some(v),
                    boolean: None,
                })
            }
            fn visit_str<E>(self, _: &str) -> Result<LNum, E> {
                Ok(LNum::default())
            }
            fn visit_unit<E>(self) -> Result<LNum, E> {
                Ok(LNum::default())
            }
            fn visit_none<E>(self) -> Result<LNum, E> {
                Ok(LNum::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<LNum, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LNum::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LNum, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LNum::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The usage of one response.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct LUsage {
    pub present: bool,
    pub input: u64,
    pub output: u64,
    pub cache_creation: u64,
    pub cache_read: u64,
}

/// A content block's type and text (`text` blocks; other blocks are only typed).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LBlock<'a> {
    pub kind: LStr<'a>,
    pub text: LStr<'a>,
}

/// A message's content: a string, or blocks.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LContent<'a> {
    pub text: Option<Cow<'a, str>>,
    pub blocks: Vec<LBlock<'a>>,
}

/// A record's `message`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LMessage<'a> {
    pub id: LStr<'a>,
    pub model: LStr<'a>,
    pub content: LContent<'a>,
    pub usage: LUsage,
}

/// One transcript record, as much as the history needs.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LRecord<'a> {
    pub kind: LStr<'a>,
    pub timestamp: LStr<'a>,
    pub session_id: LStr<'a>,
    pub cwd: LStr<'a>,
    pub git_branch: LStr<'a>,
    pub is_sidechain: bool,
    pub is_meta: bool,
    pub is_compact_summary: bool,
    pub request: LStr<'a>,
    pub uuid: LStr<'a>,
    pub message: Option<LMessage<'a>>,
    pub summary: LStr<'a>,
    pub ai_title: LStr<'a>,
    pub custom_title: LStr<'a>,
    pub title: LStr<'a>,
    pub last_prompt: LStr<'a>,
    pub total_cost: Option<f64>,
}

/// A map key, borrowed when it can be.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> de::Deserialize<'de> for LUsage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LUsage;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("usage")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LUsage, A::Error> {
                let mut u = LUsage {
                    present: true,
                    ..LUsage::default()
                };
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "input_tokens" => u.input = m.next_value::<LNum>()?.u64(),
                        "output_tokens" => u.output = m.next_value::<LNum>()?.u64(),
                        "cache_creation_input_tokens" => {
                            u.cache_creation = m.next_value::<LNum>()?.u64()
                        }
                        "cache_read_input_tokens" => u.cache_read = m.next_value::<LNum>()?.u64(),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(u)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<LUsage, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LUsage::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
            fn visit_unit<E>(self) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<LUsage, E> {
                Ok(LUsage::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> de::Deserialize<'de> for LBlock<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LBlock<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a content block")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LBlock<'de>, A::Error> {
                let mut b = LBlock::default();
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "type" => b.kind = m.next_value()?,
                        "text" => b.text = m.next_value()?,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(b)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<LBlock<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LBlock::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
            fn visit_unit<E>(self) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<LBlock<'de>, E> {
                Ok(LBlock::default())
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> de::Deserialize<'de> for LContent<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LContent<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("message content")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<LContent<'de>, E> {
                Ok(LContent {
                    text: Some(Cow::Borrowed(v)),
                    blocks: Vec::new(),
                })
            }
            fn visit_str<E>(self, v: &str) -> Result<LContent<'de>, E> {
                Ok(LContent {
                    text: Some(Cow::Owned(v.to_owned())),
                    blocks: Vec::new(),
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<LContent<'de>, A::Error> {
                let mut c = LContent::default();
                while let Some(b) = s.next_element::<LBlock<'de>>()? {
                    if c.blocks.len() < 256 {
                        c.blocks.push(b);
                    }
                }
                Ok(c)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LContent<'de>, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LContent::default())
            }
            fn visit_unit<E>(self) -> Result<LContent<'de>, E> {
                Ok(LContent::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<LContent<'de>, E> {
                Ok(LContent::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<LContent<'de>, E> {
                Ok(LContent::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<LContent<'de>, E> {
                Ok(LContent::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<LContent<'de>, E> {
                Ok(LContent::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `Option<LMessage>`: `None` unless the value is an object.
struct MaybeMessage<'a>(Option<LMessage<'a>>);

impl<'de> de::Deserialize<'de> for MaybeMessage<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeMessage<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<MaybeMessage<'de>, A::Error> {
                let mut msg = LMessage::default();
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "id" => msg.id = m.next_value()?,
                        "model" => msg.model = m.next_value()?,
                        "content" => msg.content = m.next_value()?,
                        "usage" => msg.usage = m.next_value()?,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(MaybeMessage(Some(msg)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<MaybeMessage<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeMessage(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_unit<E>(self) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<MaybeMessage<'de>, E> {
                Ok(MaybeMessage(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> de::Deserialize<'de> for LRecord<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LRecord<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LRecord<'de>, A::Error> {
                let mut r = LRecord::default();
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    match k.0.as_ref() {
                        "type" => r.kind = m.next_value()?,
                        "timestamp" => r.timestamp = m.next_value()?,
                        "sessionId" => r.session_id = m.next_value()?,
                        "cwd" => r.cwd = m.next_value()?,
                        "gitBranch" => r.git_branch = m.next_value()?,
                        "isSidechain" => {
                            r.is_sidechain = m.next_value::<LNum>()?.boolean == Some(true)
                        }
                        "isMeta" => r.is_meta = m.next_value::<LNum>()?.boolean == Some(true),
                        "isCompactSummary" => {
                            r.is_compact_summary = m.next_value::<LNum>()?.boolean == Some(true)
                        }
                        "requestRef" => r.request = m.next_value()?,
                        "requestId" => {
                            let v: LStr<'de> = m.next_value()?;
                            if r.request.0.is_none() {
                                r.request = v;
                            }
                        }
                        "uuid" => r.uuid = m.next_value()?,
                        "message" => r.message = m.next_value::<MaybeMessage<'de>>()?.0,
                        "summary" => r.summary = m.next_value()?,
                        "aiTitle" => r.ai_title = m.next_value()?,
                        "customTitle" => r.custom_title = m.next_value()?,
                        "title" => r.title = m.next_value()?,
                        "lastPrompt" => r.last_prompt = m.next_value()?,
                        "totalCostUSD" => r.total_cost = m.next_value::<LNum>()?.num,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads one line; `None` when it is not a JSON object.
pub fn parse_line(line: &[u8]) -> Option<LRecord<'_>> {
    serde_json::from_slice::<LRecord<'_>>(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_unexpected_types_are_skipped_not_fatal() {
        let r = parse_line(
            br#"{"type":"api-request-blob","message":"omitted","summary":{"a":1},"sessionId":"s","isSidechain":"yes"}"#,
        )
        .expect("parse");
        assert_eq!(r.kind.0.as_deref(), Some("api-request-blob"));
        assert_eq!(r.message, None);
        assert_eq!(r.summary.0, None);
        assert_eq!(r.session_id.0.as_deref(), Some("s"));
        assert!(!r.is_sidechain);
        assert!(parse_line(b"[1,2]").is_none());
        assert!(parse_line(b"{\"type\":").is_none());
    }

    #[test]
    fn messages_give_text_blocks_and_usage() {
        let r = parse_line(
            br#"{"type":"assistant","requestId":"r","message":{"id":"m","model":"x","content":[{"type":"text","text":"hi \"there\""},{"type":"tool_use","input":{"big":[1,2,3]}}],"usage":{"input_tokens":5,"output_tokens":7,"extra":{"a":1}}}}"#,
        )
        .expect("parse");
        let m = r.message.expect("message");
        assert_eq!(m.content.blocks.len(), 2);
        assert_eq!(m.content.blocks[0].text.0.as_deref(), Some("hi \"there\""));
        assert_eq!((m.usage.input, m.usage.output), (5, 7));
        assert_eq!(r.request.0.as_deref(), Some("r"));
    }
}
