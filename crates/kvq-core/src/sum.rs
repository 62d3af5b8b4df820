//! The arithmetic of `sum`, `min` and `max` mutations, with Deno's rules and
//! messages.
//!
//! A KvU64 operand works on LE64 values (wrapping for sum). A V8 operand
//! (number or bigint, sent by `mutate({type: "sum"})`) works on V8 numbers
//! and bigints, and a bigint may still add to a stored KvU64.

use denokv_proto::KvValue;
use num_bigint::BigInt;
use v8_valueserializer::Heap;
use v8_valueserializer::Value;
use v8_valueserializer::ValueDeserializer;
use v8_valueserializer::ValueSerializer;

use crate::error::Error;
use crate::error::Result;

/// The operation a mutation applies to the stored value.
#[derive(Clone, Copy, Debug)]
pub enum Arith {
  /// Addition: wrapping for KvU64, exact for bigint, IEEE for numbers.
  Sum,
  /// Unsigned minimum of two KvU64 values.
  Min,
  /// Unsigned maximum of two KvU64 values.
  Max,
}

impl Arith {
  fn name(self) -> &'static str {
    match self {
      Arith::Sum => "sum",
      Arith::Min => "min",
      Arith::Max => "max",
    }
  }
}

/// A number a V8 sum understands.
#[derive(Clone, Debug)]
enum Operand {
  BigInt(BigInt),
  Number(f64),
  KvU64(u64),
}

impl Operand {
  fn type_name(&self) -> &'static str {
    match self {
      Operand::BigInt(_) => "BigInt",
      Operand::Number(_) => "Number",
      Operand::KvU64(_) => "KvU64",
    }
  }

  /// Reads an operand; `None` when the value is not a number, bigint or u64.
  fn parse(value: &KvValue) -> Option<Operand> {
    match value {
      KvValue::U64(x) => Some(Operand::KvU64(*x)),
      KvValue::Bytes(_) => None,
      KvValue::V8(bytes) => {
        match ValueDeserializer::default().read(bytes).ok()?.0 {
          Value::BigInt(x) => Some(Operand::BigInt(x)),
          Value::Double(x) => Some(Operand::Number(x)),
          Value::I32(x) => Some(Operand::Number(x as f64)),
          Value::U32(x) => Some(Operand::Number(x as f64)),
          _ => None,
        }
      }
    }
  }

  fn encode(self) -> Result<KvValue> {
    let value = match self {
      Operand::KvU64(x) => return Ok(KvValue::U64(x)),
      Operand::BigInt(x) => Value::BigInt(x),
      Operand::Number(x) => Value::Double(x),
    };
    ValueSerializer::default()
      .finish(&Heap::default(), &value)
      .map(KvValue::V8)
      .map_err(|e| Error::Internal(format!("serialising a sum: {e:?}")))
  }
}

/// Applies `op` with `operand` to the value currently stored (`None` when the
/// key is missing or expired) and returns the value to store.
pub fn apply(
  op: Arith,
  current: Option<KvValue>,
  operand: &KvValue,
) -> Result<KvValue> {
  if let KvValue::U64(operand) = *operand {
    return match current {
      None => Ok(KvValue::U64(operand)),
      Some(KvValue::U64(current)) => Ok(KvValue::U64(match op {
        Arith::Sum => current.wrapping_add(operand),
        Arith::Min => current.min(operand),
        Arith::Max => current.max(operand),
      })),
      Some(_) => Err(Error::TypeMismatch(format!(
        "Failed to perform '{}' mutation on a non-U64 value in the database",
        op.name()
      ))),
    };
  }
  if !matches!(op, Arith::Sum) {
    return Err(Error::TypeMismatch(format!(
      "Failed to perform '{}' mutation on a non-U64 operand",
      op.name()
    )));
  }
  let Some(operand) = Operand::parse(operand) else {
    return Err(Error::TypeMismatch(
      "Some of the parameters are not valid V8 values".into(),
    ));
  };
  let Some(current) = current else {
    return operand.encode();
  };
  let Some(current) = Operand::parse(&current) else {
    return Err(Error::TypeMismatch("unsupported value type".into()));
  };
  let u64_range = BigInt::from(0u64)..=BigInt::from(u64::MAX);
  let result = match (current, operand) {
    (Operand::BigInt(a), Operand::BigInt(b)) => Operand::BigInt(a + b),
    (Operand::Number(a), Operand::Number(b)) => Operand::Number(a + b),
    (Operand::KvU64(a), Operand::KvU64(b)) => Operand::KvU64(a.wrapping_add(b)),
    (Operand::KvU64(a), Operand::BigInt(b)) if u64_range.contains(&b) => {
      let b = u64::try_from(b).map_err(|e| Error::Internal(e.to_string()))?;
      Operand::KvU64(a.wrapping_add(b))
    }
    (a, b) => {
      return Err(Error::TypeMismatch(format!(
        "Cannot sum {} with {}",
        a.type_name(),
        b.type_name()
      )))
    }
  };
  result.encode()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn v8(value: Value) -> KvValue {
    KvValue::V8(
      ValueSerializer::default()
        .finish(&Heap::default(), &value)
        .unwrap(),
    )
  }

  fn message(r: Result<KvValue>) -> String {
    r.err().map(|e| e.to_string()).unwrap_or_default()
  }

  #[test]
  fn u64_sum_wraps_and_min_max_are_unsigned() {
    let r = apply(Arith::Sum, Some(KvValue::U64(u64::MAX)), &KvValue::U64(10));
    assert!(matches!(r, Ok(KvValue::U64(9))));
    let r = apply(Arith::Min, Some(KvValue::U64(5)), &KvValue::U64(3));
    assert!(matches!(r, Ok(KvValue::U64(3))));
    let r = apply(Arith::Max, None, &KvValue::U64(3));
    assert!(matches!(r, Ok(KvValue::U64(3))));
  }

  #[test]
  fn mismatches_have_denos_messages() {
    let s = v8(Value::Double(1.0));
    assert_eq!(
      message(apply(
        Arith::Sum,
        Some(v8(Value::Double(1.0))),
        &KvValue::U64(1)
      )),
      "Failed to perform 'sum' mutation on a non-U64 value in the database"
    );
    assert_eq!(
      message(apply(Arith::Min, None, &s)),
      "Failed to perform 'min' mutation on a non-U64 operand"
    );
    assert_eq!(
      message(apply(Arith::Sum, Some(KvValue::U64(1)), &s)),
      "Cannot sum KvU64 with Number"
    );
    let big = v8(Value::BigInt(BigInt::from(-1)));
    assert_eq!(
      message(apply(Arith::Sum, Some(KvValue::U64(1)), &big)),
      "Cannot sum KvU64 with BigInt"
    );
    assert_eq!(
      message(apply(Arith::Sum, Some(KvValue::Bytes(vec![1])), &s)),
      "unsupported value type"
    );
  }

  #[test]
  fn v8_sums_add() {
    let r = apply(Arith::Sum, Some(v8(Value::Double(1.5))), &v8(Value::I32(2)));
    let Ok(KvValue::V8(bytes)) = r else {
      panic!("not v8")
    };
    let (value, _) = ValueDeserializer::default().read(&bytes).unwrap();
    assert!(matches!(value, Value::Double(x) if x == 3.5));
    let r = apply(
      Arith::Sum,
      Some(KvValue::U64(5)),
      &v8(Value::BigInt(BigInt::from(3))),
    );
    assert!(matches!(r, Ok(KvValue::U64(8))));
  }
}
