//! The functions binary `+`, `-` and `*` are rewritten into (see [`super::operators`]):
//! Python's arithmetic of datetimes, dates and timedeltas, and for every other value
//! exactly minijinja's own operator, which is not public: common number and string cases
//! are computed here as minijinja does, the rest is evaluated by a precompiled `a + b`.

use std::sync::OnceLock;

use chrono::{Days, NaiveDate, NaiveDateTime, TimeDelta};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, Expression};

use super::datetime::{PyDate, PyDateTime, PyTimedelta};
use super::expression::{ADD_FN, MUL_FN, SUB_FN};
use super::list::invalid;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }
}

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function(ADD_FN, |a: Value, b: Value| binary(Op::Add, &a, &b));
    env.add_function(SUB_FN, |a: Value, b: Value| binary(Op::Sub, &a, &b));
    env.add_function(MUL_FN, |a: Value, b: Value| binary(Op::Mul, &a, &b));
}

/// `a <op> b` as Python does it for datetimes, else as minijinja does.
pub(super) fn binary(op: Op, a: &Value, b: &Value) -> Result<Value, Error> {
    let (x, y) = (Temporal::of(a), Temporal::of(b));
    if x.is_none() && y.is_none() {
        return minijinja_op(op, a, b);
    }
    temporal(op, Temporal::number(x, a), Temporal::number(y, b)).unwrap_or_else(|| {
        Err(invalid(format!(
            "unsupported operand types for {}: {} and {}",
            op.symbol(),
            type_name(a),
            type_name(b)
        )))
    })
}

/// A datetime, date or timedelta operand.
enum Temporal {
    DateTime(PyDateTime),
    Date(NaiveDate),
    Delta(TimeDelta),
    /// An integer, as a timedelta is multiplied by.
    Int(i64),
    Float(f64),
}

impl Temporal {
    fn of(value: &Value) -> Option<Temporal> {
        let object = value.as_object()?;
        if let Some(dt) = object.downcast_ref::<PyDateTime>() {
            Some(Temporal::DateTime(dt.clone()))
        } else if let Some(d) = object.downcast_ref::<PyDate>() {
            Some(Temporal::Date(d.0))
        } else {
            object
                .downcast_ref::<PyTimedelta>()
                .map(|td| Temporal::Delta(td.0))
        }
    }

    /// A number operand beside a datetime one.
    fn number(value: Option<Temporal>, original: &Value) -> Option<Temporal> {
        if value.is_some() {
            return value;
        }
        if original.is_integer() {
            original.as_i64().map(Temporal::Int)
        } else if original.is_number() {
            f64::try_from(original.clone()).ok().map(Temporal::Float)
        } else {
            None
        }
    }
}

fn type_name(value: &Value) -> String {
    match Temporal::of(value) {
        Some(Temporal::DateTime(_)) => "datetime".into(),
        Some(Temporal::Date(_)) => "date".into(),
        Some(Temporal::Delta(_)) => "timedelta".into(),
        _ => value.kind().to_string(),
    }
}

fn out_of_range() -> Error {
    invalid("date value out of range")
}

/// Python's datetime arithmetic; `None` for operand types Python rejects.
fn temporal(op: Op, a: Option<Temporal>, b: Option<Temporal>) -> Option<Result<Value, Error>> {
    use Temporal::*;
    let result = match (op, a?, b?) {
        (Op::Add, DateTime(dt), Delta(d)) | (Op::Add, Delta(d), DateTime(dt)) => shift(dt, d),
        (Op::Sub, DateTime(dt), Delta(d)) => shift(dt, -d),
        (Op::Add, Date(date), Delta(d)) | (Op::Add, Delta(d), Date(date)) => {
            shift_date(date, days(d))
        }
        // Python subtracts the timedelta's days (its normalized, floored days).
        (Op::Sub, Date(date), Delta(d)) => shift_date(date, -days(d)),
        (Op::Sub, DateTime(a), DateTime(b)) => match (&a.tz, &b.tz) {
            (None, None) => Ok(delta(a.naive - b.naive)),
            (Some(_), Some(_)) => Ok(delta(utc(&a) - utc(&b))),
            _ => Err(invalid(
                "can't subtract offset-naive and offset-aware datetimes",
            )),
        },
        (Op::Sub, Date(a), Date(b)) => Ok(delta(a - b)),
        (Op::Add, Delta(a), Delta(b)) => a.checked_add(&b).map(delta).ok_or_else(out_of_range),
        (Op::Sub, Delta(a), Delta(b)) => a.checked_sub(&b).map(delta).ok_or_else(out_of_range),
        (Op::Mul, Delta(d), Int(n)) | (Op::Mul, Int(n), Delta(d)) => d
            .num_microseconds()
            .and_then(|micros| micros.checked_mul(n))
            .map(|micros| delta(TimeDelta::microseconds(micros)))
            .ok_or_else(out_of_range),
        (Op::Mul, Delta(d), Float(f)) | (Op::Mul, Float(f), Delta(d)) => {
            let micros = d.num_microseconds().unwrap_or(i64::MAX) as f64 * f;
            if micros.is_finite() && micros.abs() < i64::MAX as f64 {
                Ok(delta(TimeDelta::microseconds(
                    micros.round_ties_even() as i64
                )))
            } else {
                Err(out_of_range())
            }
        }
        _ => return None,
    };
    Some(result)
}

fn delta(d: TimeDelta) -> Value {
    PyTimedelta(d).into()
}

/// An aware datetime's UTC time.
fn utc(dt: &PyDateTime) -> NaiveDateTime {
    let offset = dt.tz.as_ref().map_or(0, |t| t.offset.local_minus_utc());
    dt.naive - TimeDelta::seconds(offset.into())
}

/// `dt + d`: wall-clock arithmetic keeping the timezone, as Python does.
fn shift(dt: PyDateTime, d: TimeDelta) -> Result<Value, Error> {
    let naive = dt.naive.checked_add_signed(d).ok_or_else(out_of_range)?;
    Ok(PyDateTime { naive, ..dt }.into())
}

fn days(d: TimeDelta) -> i64 {
    PyTimedelta(d).parts().0
}

fn shift_date(date: NaiveDate, days: i64) -> Result<Value, Error> {
    let shifted = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    shifted
        .map(|d| Value::from_object(PyDate(d)))
        .ok_or_else(out_of_range)
}

/// minijinja's operator: integers (as i128, as minijinja computes them), floats and
/// string concatenation here, everything else (mixed numbers, sequences, strings times
/// integers, errors) by minijinja itself.
fn minijinja_op(op: Op, a: &Value, b: &Value) -> Result<Value, Error> {
    if a.is_integer() && b.is_integer() {
        if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
            let (x, y) = (i128::from(x), i128::from(y));
            let result = match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            };
            return Ok(match i64::try_from(result) {
                Ok(small) => Value::from(small),
                Err(_) => Value::from(result),
            });
        }
    }
    // minijinja computes in floats when either is one (integers converted lossily).
    let is_float = |v: &Value| v.is_number() && !v.is_integer();
    if a.is_number() && b.is_number() && (is_float(a) || is_float(b)) {
        if let (Ok(x), Ok(y)) = (f64::try_from(a.clone()), f64::try_from(b.clone())) {
            return Ok(Value::from(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
            }));
        }
    }
    if op == Op::Add {
        if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
            return Ok(Value::from([x, y].concat()));
        }
    }
    evaluate(op, a, b)
}

/// The expressions `a + b`, `a - b` and `a * b`, compiled once.
struct Operators {
    add: Expression<'static, 'static>,
    sub: Expression<'static, 'static>,
    mul: Expression<'static, 'static>,
}

static OPERATORS: OnceLock<Result<Operators, String>> = OnceLock::new();

fn compile() -> Result<Operators, String> {
    // Lives as long as the program, as the compiled expressions borrow it.
    let env: &'static Environment<'static> = Box::leak(Box::new(Environment::new()));
    let compile = |source: &'static str| env.compile_expression(source).map_err(|e| e.to_string());
    Ok(Operators {
        add: compile("a + b")?,
        sub: compile("a - b")?,
        mul: compile("a * b")?,
    })
}

/// Evaluates minijinja's own operator on the two values (passed through unchanged,
/// undefined ones included).
fn evaluate(op: Op, a: &Value, b: &Value) -> Result<Value, Error> {
    let operators = OPERATORS
        .get_or_init(compile)
        .as_ref()
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.clone()))?;
    let expression = match op {
        Op::Add => &operators.add,
        Op::Sub => &operators.sub,
        Op::Mul => &operators.mul,
    };
    let operands = Value::from_iter([("a", a.clone()), ("b", b.clone())]);
    expression.eval(operands).map_err(|e| {
        // The expression's own location would hide the template's.
        match e.detail() {
            Some(detail) => Error::new(e.kind(), detail.to_string()),
            None => Error::from(e.kind()),
        }
    })
}
