//! Reading a bundle's model within a budget of memory, whatever its entries
//! hold. Every large collection of the model (a profile's nodes, frames and
//! samples; the k6 series, their columns and histograms; a timeline's
//! columns) is read through [`vec`] or [`map`], which charge what each
//! element will take in memory — its size, twice for a growing `Vec`, a map
//! entry's node, a string's bytes — to a budget set for the whole bundle by
//! [`with_budget`], and fail when it is spent: a 6 MB bundle that inflates to
//! a million series is refused at the budget, not read into gigabytes.
//! Outside [`with_budget`] (writing, tests) the budget is unlimited.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

thread_local! {
    /// Bytes left to the model being read; `u64::MAX` outside [`with_budget`].
    static LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// Runs `f` (the reading of a bundle, or of one of its entries) with
/// `*bytes` of memory to spend on the model's collections, and leaves in
/// `*bytes` what is left of it; returns what `f` returns.
pub fn with_budget<T>(bytes: &mut u64, f: impl FnOnce() -> T) -> T {
    let before = LEFT.with(|l| l.replace(*bytes));
    let out = f();
    *bytes = LEFT.with(|l| l.replace(before));
    out
}

/// What the error of a spent budget says (find it with [`SPENT`]).
const SPENT_MESSAGE: &str = "the model is larger than a reader holds in memory (the writer's own bounds: too many series, nodes, frames or samples)";
/// A part of [`SPENT_MESSAGE`] that tells that error from others.
pub const SPENT: &str = "larger than a reader holds in memory";

/// Charges `bytes` to the budget; an error once it is spent.
fn charge<E: de::Error>(bytes: u64) -> Result<(), E> {
    LEFT.with(|l| {
        let left = l.get();
        if left == u64::MAX {
            return Ok(());
        }
        match left.checked_sub(bytes) {
            Some(rest) => {
                l.set(rest);
                Ok(())
            }
            None => Err(E::custom(SPENT_MESSAGE)),
        }
    })
}

/// What is left of the budget (`u64::MAX` outside [`with_budget`]).
pub fn left() -> u64 {
    LEFT.with(|l| l.get())
}

/// Sets what is left of the budget: back to an earlier [`left`], once what
/// was charged since is freed (a streamed record taken in).
pub fn set_left(bytes: u64) {
    LEFT.with(|l| l.set(bytes));
}

/// Charges `bytes` kept outside a deserializer (what a streamed reader
/// gathers); an error in words once the budget is spent.
pub fn take(bytes: u64) -> Result<(), String> {
    charge::<serde::de::value::Error>(bytes).map_err(|e| e.to_string())
}

/// Gives `bytes` back to the budget (memory freed while reading).
fn refund(bytes: u64) {
    LEFT.with(|l| {
        let left = l.get();
        if left != u64::MAX {
            l.set(left.saturating_add(bytes).min(u64::MAX - 1));
        }
    });
}

/// What a value takes in memory beyond its own size (a string's bytes).
pub trait Heap {
    fn heap(&self) -> u64 {
        0
    }
}

/// What an allocation of `n` bytes takes: malloc's rounding and header (16 bytes, at least 32 in all).
pub fn alloc(n: usize) -> u64 {
    if n == 0 {
        0
    } else {
        (n.div_ceil(16) * 16 + 16).max(32) as u64
    }
}

impl Heap for String {
    fn heap(&self) -> u64 {
        alloc(self.len())
    }
}

macro_rules! no_heap {
    ($($t:ty),*) => { $(impl Heap for $t {})* };
}
no_heap!(u32, u64, i64, usize, f64, bool, Option<f64>, crate::profile::Category, crate::histogram::StoredHistogram);
// Values whose own collections and strings charge themselves as they are read.
no_heap!(crate::k6::MetricDecl, crate::k6::ReportedMetric, crate::k6::SeriesSummary, crate::k6::StoredSeries);
// Records whose own strings are bounded by their entry's size (the manifest's 16 MiB).
no_heap!(
    crate::k6::SubmetricDecl,
    crate::bundle::InputRecord,
    crate::bundle::EntryRecord,
    crate::bundle::ShardRecord,
    crate::bundle::ProfileAlignment,
    crate::bundle::ProcessSpan,
    crate::bundle::AlignmentRecord
);

/// A `Vec` read element by element, each charged its size and heap, and
/// its growth charged before it happens (a growing `Vec` holds up to twice
/// what it has); read, it is shrunk to fit and the slack given back.
pub fn vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Heap,
{
    struct V<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Heap> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let size = std::mem::size_of::<T>() as u64;
            let mut out: Vec<T> = Vec::new();
            while let Some(x) = seq.next_element::<T>()? {
                charge(x.heap())?;
                if out.len() == out.capacity() {
                    // Growing: the new capacity is charged before it is taken.
                    let grown = (out.capacity() * 2).max(4);
                    charge((grown - out.capacity()) as u64 * size)?;
                    out.reserve_exact(grown - out.len());
                }
                out.push(x);
            }
            // What it holds kept, the slack given back.
            let slack = (out.capacity() - out.len()) as u64 * size;
            out.shrink_to_fit();
            refund(slack);
            Ok(out)
        }
    }
    d.deserialize_seq(V(PhantomData))
}

/// [`vec`] of an optional field.
pub fn opt_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Heap,
{
    #[derive(Deserialize)]
    #[serde(bound = "T: Deserialize<'de> + Heap")]
    struct Wrap<T>(#[serde(deserialize_with = "vec")] Vec<T>);
    Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
}

/// A string, its bytes charged (for structs read outside the model: a tool's files).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    charge(alloc(s.len()))?;
    Ok(s)
}

/// [`string`] of an optional field.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    if let Some(s) = &s {
        charge(alloc(s.len()))?;
    }
    Ok(s)
}

/// A `Vec` read as [`vec`] reads one, for arrays inside arrays
/// (`Vec<Seq<T>>`): each level charged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seq<T>(pub Vec<T>);

impl<T> std::ops::Deref for Seq<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> Heap for Seq<T> {}

impl<'de, T: Deserialize<'de> + Heap> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        vec(d).map(Seq)
    }
}

/// A JSON value read with every node charged (a document whose shape is
/// checked after reading: a k6 summary): like `serde_json::Value`, bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Value(pub serde_json::Value);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value as J;
        const NODE: u64 = std::mem::size_of::<J>() as u64;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value(J::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(J::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(J::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(serde_json::Number::from_f64(v).map_or(J::Null, J::Number)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                charge(alloc(v.len()))?;
                Ok(Value(J::String(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                charge(alloc(v.len()))?;
                Ok(Value(J::String(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value(J::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value(J::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(Value(x)) = seq.next_element()? {
                    charge(2 * NODE)?;
                    out.push(x);
                }
                Ok(Value(J::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Value, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(k) = m.next_key::<String>()? {
                    // A tree entry: key, value and a share of its node.
                    charge(alloc(k.len()) + NODE + 32)?;
                    let Value(v) = m.next_value()?;
                    out.insert(k, v);
                }
                Ok(Value(J::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `BTreeMap` read entry by entry, each charged its key and value and the
/// key's heap; a map that has any entry, one whole tree node too (a leaf
/// holds 11 entries whether it has 1 or 11: small maps cost their node).
pub fn map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de> + Heap,
{
    struct M<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de> + Heap> Visitor<'de> for M<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            let entry = std::mem::size_of::<(String, V)>();
            while let Some(k) = m.next_key::<String>()? {
                // The entry is charged before its value is read: a value's own
                // collections charge themselves as they are read.
                if out.len() % 11 == 0 {
                    charge(alloc(11 * entry + 96))?;
                }
                charge(alloc(k.len()))?;
                let v = m.next_value::<V>()?;
                charge(v.heap())?;
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_map(M(PhantomData))
}

/// [`map`] of an optional field.
pub fn opt_map<'de, D, V>(d: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de> + Heap,
{
    #[derive(Deserialize)]
    #[serde(bound = "V: Deserialize<'de> + Heap")]
    struct Wrap<V>(#[serde(deserialize_with = "map")] BTreeMap<String, V>);
    Ok(Option::<Wrap<V>>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(deserialize_with = "vec")]
        xs: Vec<u64>,
        #[serde(deserialize_with = "map")]
        m: BTreeMap<String, u64>,
    }

    #[test]
    fn a_budget_bounds_what_is_read() {
        let json = r#"{"xs":[1,2,3,4],"m":{"a":1,"b":2}}"#;
        // Unlimited outside a budget.
        let t: T = serde_json::from_str(json).unwrap();
        assert_eq!((t.xs.len(), t.m.len()), (4, 2));
        // 4 × 8 bytes for the numbers, then the map's node and its keys.
        let need = 4 * 8 + alloc(11 * std::mem::size_of::<(String, u64)>() + 96) + 2 * alloc(1);
        let mut left = need;
        assert!(with_budget(&mut left, || serde_json::from_str::<T>(json)).is_ok());
        assert_eq!(left, 0, "all of it spent");
        let mut left = need - 1;
        let e = with_budget(&mut left, || serde_json::from_str::<T>(json)).unwrap_err().to_string();
        assert!(e.contains("larger than a reader holds in memory"), "{e}");
        // The budget is the reading's own: after it, unlimited again.
        assert!(serde_json::from_str::<T>(json).is_ok());
    }
}
