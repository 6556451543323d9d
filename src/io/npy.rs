//! NumPy `.npy` files, versions 1.0, 2.0 and 3.0.
//!
//! Layout (numpy.lib.format): the magic `\x93NUMPY`, a major and a minor version byte, the
//! header length (`u16` little-endian in 1.0, `u32` in 2.0 and 3.0), the header (a Python dict
//! literal, Latin-1 in 1.0/2.0 and UTF-8 in 3.0, space-padded and newline-terminated), then the
//! raw data. The header has exactly three keys: `descr` (the dtype, e.g. `'<f4'`),
//! `fortran_order` and `shape` (a tuple of ints).
//!
//! The parser here is ours rather than a crate's: the format is a page long, and a
//! hand-written reader lets every length be checked before anything is allocated. It reads
//! only the Python-literal subset `np.save` writes (strings, ints, booleans, tuples, lists, one
//! dict) and never evaluates anything: object arrays, whose data is a pickle, are refused.

use std::io::{BufReader, Read, Write};
use std::path::Path;

use super::atomic::write_atomically;
use super::convert::{ElementKind, Endian, decode_into, encode_f32_le};
use super::limits::{Budget, ReadLimits, try_with_capacity};
use super::tensor::{Tensor, element_count};
use crate::error::{Error, Result};

const FORMAT: &str = "npy";

/// `\x93NUMPY`: the first six bytes of every `.npy` file.
const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Magic plus the two version bytes.
const PREAMBLE_LEN: usize = MAGIC.len() + 2;

/// The largest header accepted. NumPy's own reader refuses headers over 10,000 bytes unless
/// told otherwise; a 1 MiB bound leaves room for any real shape and caps what a hostile
/// length can make us allocate.
const MAX_HEADER_LEN: u64 = 1 << 20;

/// The deepest nesting of tuples, lists and dicts the header parser follows. `np.save`
/// writes depth 2 (a tuple in the dict); structured dtypes nest a little deeper. The bound
/// keeps a header of a million `(` from overflowing the stack.
const MAX_NESTING: usize = 16;

/// Rows of the alignment NumPy uses: the data starts at a multiple of 64 bytes.
const ALIGNMENT: usize = 64;

/// Loads a `.npy` file as a row-major `f32` tensor, within the default [`ReadLimits`].
///
/// Floats `f2`, `f4`, `f8` (f64 rounds to nearest even, f16 widens exactly), booleans `b1`
/// and integers `i1` to `i8` and `u1` to `u8` (converted as `astype(np.float32)` does: exact
/// up to 2^24, rounded to nearest even beyond), little- or big-endian, load; Fortran-order
/// data is transposed into row-major. Object arrays (`|O`, stored as pickles) and other dtypes
/// (complex, strings, dates, records) are [`Error::UnsupportedDtype`]; a malformed file is
/// [`Error::MalformedFile`] with `format: "npy"`.
///
/// ```no_run
/// // Written in Python by: np.save("w.npy", np.arange(6, dtype=np.float64).reshape(2, 3))
/// let w = nninit::io::load_npy("w.npy")?;
/// assert_eq!(w.shape, [2, 3]);
/// assert_eq!(w.data, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    load_npy_limited(path, &ReadLimits::default())
}

/// [`load_npy`] with a memory budget: a file needing more than `limits.max_bytes` (its data
/// plus the `f32` values) is [`Error::OverBudget`], before anything that large is allocated.
///
/// ```no_run
/// use nninit::io::{ReadLimits, load_npy_limited};
/// let w = load_npy_limited("w.npy", &ReadLimits::default().max_bytes(1 << 30))?;
/// assert!(w.len() <= 1 << 28);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn load_npy_limited(path: impl AsRef<Path>, limits: &ReadLimits) -> Result<Tensor> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let name = path.display().to_string();
    let stream = Limits {
        available: file_len,
    };
    let mut budget = Budget::new(limits);
    read_npy(&mut BufReader::new(file), stream, &name, &mut budget).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })
}

/// Saves `tensor` as a `.npy` file (version 1.0, or 2.0 for a header over 64 KiB) with dtype
/// `<f4` in C order, atomically. NumPy reads it with `np.load`.
///
/// ```no_run
/// let t = nninit::io::Tensor::new(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0])?;
/// nninit::io::save_npy("t.npy", &t)?;
/// assert_eq!(nninit::io::load_npy("t.npy")?, t);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn save_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    tensor.check("tensor")?;
    let path = path.as_ref();
    write_atomically(path, |out| {
        write_npy(out, tensor).map_err(|e| Error::io(path, e))
    })
}

/// Writes `tensor` (already checked) in `.npy` format.
pub(crate) fn write_npy(out: &mut impl Write, tensor: &Tensor) -> std::io::Result<()> {
    out.write_all(&header_bytes(&tensor.shape))?;
    out.write_all(&encode_f32_le(&tensor.data))
}

/// The preamble and padded header for an `<f4`, C-order array of `shape`.
fn header_bytes(shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // Version 1.0 stores the header length in a u16; larger headers need version 2.0.
    let (version, length_bytes) = if PREAMBLE_LEN + 2 + dict.len() < usize::from(u16::MAX) {
        (1u8, 2)
    } else {
        (2u8, 4)
    };
    let unpadded = PREAMBLE_LEN + length_bytes + dict.len() + 1;
    dict.extend(std::iter::repeat_n(
        ' ',
        unpadded.next_multiple_of(ALIGNMENT) - unpadded,
    ));
    dict.push('\n');
    let mut bytes = Vec::with_capacity(PREAMBLE_LEN + length_bytes + dict.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[version, 0]);
    if version == 1 {
        // Fits: checked against u16::MAX above.
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(dict.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(dict.as_bytes());
    bytes
}

/// How far the lengths in a stream can be believed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The most bytes the stream can hold (a file's length, a zip entry's declared size).
    pub(crate) available: u64,
}

/// The parsed header: what the data is and how it is laid out.
#[derive(Debug, PartialEq)]
struct Header {
    kind: ElementKind,
    endian: Endian,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Reads one `.npy` stream; `name` labels the tensor in errors; `budget` pays for the raw data
/// and the `f32` values.
///
/// I/O errors come back as [`Error::Io`] (with an empty path, for the caller to fill in);
/// every inconsistency is [`Error::MalformedFile`] with `format: "npy"`.
pub(crate) fn read_npy(
    reader: &mut impl Read,
    limits: Limits,
    name: &str,
    budget: &mut Budget,
) -> Result<Tensor> {
    let (header, data_available) = read_header(reader, limits.available, name)?;
    let data_len = data_length(&header, data_available)?;
    let count = data_len / header.kind.size();
    let label = || format!("array '{name}'");
    budget.spend(data_len as u64, || format!("the data of {}", label()))?;
    let data = read_data(reader, data_len, &label)?;
    let f32_bytes = (count as u64).saturating_mul(4);
    budget.spend(f32_bytes, || format!("{} as f32", label()))?;
    let mut values = try_with_capacity(count, || format!("{} as f32", label()))?;
    decode_into(&data, header.kind, header.endian, &mut values);
    drop(data);
    budget.release(data_len as u64);
    let values = if header.fortran_order && header.shape.len() > 1 {
        // The transposed copy exists beside the original until the original is dropped.
        budget.spend(f32_bytes, || {
            format!("{} transposed from Fortran order", label())
        })?;
        let transposed = fortran_to_row_major(&values, &header.shape, &label)?;
        budget.release(f32_bytes);
        transposed
    } else {
        values
    };
    Ok(Tensor {
        shape: header.shape,
        data: values,
    })
}

/// Reads the preamble and the header; returns the header and the bytes left for the data.
fn read_header(reader: &mut impl Read, available: u64, name: &str) -> Result<(Header, u64)> {
    let version = read_preamble(reader, available)?;
    let header_len = read_header_len(reader, version.length_size)?;
    let after_prefix = available.saturating_sub((PREAMBLE_LEN + version.length_size) as u64);
    if header_len > MAX_HEADER_LEN || header_len > after_prefix {
        return Err(malformed(format!(
            "header length {header_len} exceeds the {after_prefix} bytes that follow it \
             (limit {MAX_HEADER_LEN})"
        )));
    }
    // At most MAX_HEADER_LEN bytes, and no more than the stream holds.
    let header_bytes = read_exactly(reader, header_len as usize, "header")?;
    let text = decode_header_text(&header_bytes, version.utf8)?;
    Ok((parse_header(&text, name)?, after_prefix - header_len))
}

/// Reads exactly `len` data bytes into a buffer reserved fallibly (the budget has been charged
/// for it already).
fn read_data(reader: &mut impl Read, len: usize, label: &dyn Fn() -> String) -> Result<Vec<u8>> {
    let mut data = try_with_capacity(len, || format!("the data of {}", label()))?;
    reader
        .take(len as u64)
        .read_to_end(&mut data)
        .map_err(|e| Error::io("", e))?;
    if data.len() != len {
        return Err(malformed(format!(
            "data is truncated: header describes {len} bytes, stream holds {}",
            data.len()
        )));
    }
    Ok(data)
}

/// What the version bytes decide.
#[derive(Clone, Copy, Debug)]
struct Version {
    /// Size of the header-length field: 2 bytes in 1.0, 4 in 2.0 and 3.0.
    length_size: usize,
    /// Whether the header is UTF-8 (3.0) rather than Latin-1.
    utf8: bool,
}

/// Checks the magic and the version.
fn read_preamble(reader: &mut impl Read, available: u64) -> Result<Version> {
    if available < (PREAMBLE_LEN + 2) as u64 {
        return Err(malformed(format!(
            "file is {available} bytes, shorter than the {}-byte npy preamble",
            PREAMBLE_LEN + 2
        )));
    }
    let preamble = read_exactly(reader, PREAMBLE_LEN, "preamble")?;
    if &preamble[..MAGIC.len()] != MAGIC {
        return Err(malformed(format!(
            "bad magic {:02x?}: not an npy file (expected \\x93NUMPY)",
            &preamble[..MAGIC.len()]
        )));
    }
    let (major, minor) = (preamble[6], preamble[7]);
    let version = |length_size, utf8| Ok(Version { length_size, utf8 });
    match (major, minor) {
        (1, 0) => version(2, false),
        (2, 0) => version(4, false),
        (3, 0) => version(4, true),
        _ => Err(malformed(format!(
            "unsupported npy version {major}.{minor} (1.0, 2.0 and 3.0 are known)"
        ))),
    }
}

/// Reads the little-endian header length (2 or 4 bytes).
fn read_header_len(reader: &mut impl Read, size: usize) -> Result<u64> {
    let bytes = read_exactly(reader, size, "header length")?;
    Ok(bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Reads exactly `len` bytes; a short stream is a truncated file.
fn read_exactly(reader: &mut impl Read, len: usize, what: &str) -> Result<Vec<u8>> {
    let mut buffer = vec![0u8; len];
    reader.read_exact(&mut buffer).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            malformed(format!("file is truncated inside the {what}"))
        } else {
            Error::io("", e)
        }
    })?;
    Ok(buffer)
}

/// Decodes the header: UTF-8 in version 3.0, Latin-1 (each byte one char) before.
fn decode_header_text(bytes: &[u8], utf8: bool) -> Result<String> {
    if utf8 {
        String::from_utf8(bytes.to_vec())
            .map_err(|e| malformed(format!("version 3.0 header is not valid UTF-8 ({e})")))
    } else {
        Ok(bytes.iter().map(|&b| char::from(b)).collect())
    }
}

/// The data length in bytes the header implies; it must be exactly what the stream holds.
fn data_length(header: &Header, remaining: u64) -> Result<usize> {
    let count = element_count(&header.shape).ok_or_else(|| {
        malformed(format!(
            "shape {:?} overflows when its dimensions are multiplied",
            header.shape
        ))
    })?;
    let bytes = count.checked_mul(header.kind.size()).ok_or_else(|| {
        malformed(format!(
            "shape {:?} has {count} elements, too many bytes to address",
            header.shape
        ))
    })?;
    match (bytes as u64).cmp(&remaining) {
        std::cmp::Ordering::Equal => Ok(bytes),
        std::cmp::Ordering::Greater => Err(malformed(format!(
            "header describes {bytes} bytes of data (shape {:?}), file holds {remaining}",
            header.shape
        ))),
        std::cmp::Ordering::Less => Err(malformed(format!(
            "{} trailing bytes after the {bytes} bytes of data",
            remaining - bytes as u64
        ))),
    }
}

/// Interprets the header dict.
fn parse_header(text: &str, name: &str) -> Result<Header> {
    let mut parser = Parser::new(text);
    let Value::Dict(entries) = parser.value()? else {
        return Err(malformed("header is not a dict".to_string()));
    };
    parser.skip_whitespace();
    if parser.peek().is_some() {
        return Err(malformed(format!(
            "unexpected text after the header dict at byte {}",
            parser.position
        )));
    }
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for (key, value) in entries {
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran_order,
            "shape" => &mut shape,
            other => return Err(malformed(format!("unexpected key '{other}' in header"))),
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!("duplicate key '{key}' in header")));
        }
    }
    let missing = |key: &str| malformed(format!("header lacks the key '{key}'"));
    let (kind, endian) = dtype(descr.ok_or_else(|| missing("descr"))?, name)?;
    let fortran_order = match fortran_order.ok_or_else(|| missing("fortran_order"))? {
        Value::Bool(b) => b,
        _ => {
            return Err(malformed(
                "'fortran_order' is not True or False".to_string(),
            ));
        }
    };
    let shape = shape_of(shape.ok_or_else(|| missing("shape"))?)?;
    Ok(Header {
        kind,
        endian,
        fortran_order,
        shape,
    })
}

/// The element type of a `descr`, or the reason it is refused.
fn dtype(descr: Value, name: &str) -> Result<(ElementKind, Endian)> {
    let unsupported = |dtype: String| Error::UnsupportedDtype {
        format: FORMAT,
        dtype,
        tensor: name.to_string(),
    };
    let descr = match descr {
        Value::Str(s) => s,
        Value::List(_) => {
            return Err(unsupported(
                "a structured dtype (record array); only plain numeric or bool arrays load"
                    .to_string(),
            ));
        }
        _ => return Err(malformed("'descr' is not a dtype string".to_string())),
    };
    let (order, code) = match descr.chars().next() {
        Some(c @ ('<' | '>' | '|' | '=')) => (Some(c), &descr[c.len_utf8()..]),
        _ => (None, descr.as_str()),
    };
    if code.starts_with('O') {
        return Err(unsupported(format!(
            "'{descr}' (an object array: its data is a Python pickle, and unpickling can run \
             arbitrary code, so it is refused)"
        )));
    }
    let kind = match code {
        "f2" => ElementKind::F16,
        "f4" => ElementKind::F32,
        "f8" => ElementKind::F64,
        "b1" | "?" => ElementKind::Bool,
        "u1" | "B" => ElementKind::U8,
        "i1" | "b" => ElementKind::I8,
        "u2" => ElementKind::U16,
        "i2" => ElementKind::I16,
        "u4" => ElementKind::U32,
        "i4" => ElementKind::I32,
        "u8" => ElementKind::U64,
        "i8" => ElementKind::I64,
        _ => return Err(unsupported(format!("'{descr}'"))),
    };
    match order {
        Some('<') => Ok((kind, Endian::Little)),
        Some('>') => Ok((kind, Endian::Big)),
        // A one-byte element has no byte order: NumPy writes '|'.
        _ if kind.size() == 1 => Ok((kind, Endian::Little)),
        _ => Err(unsupported(format!(
            "'{descr}' (a multi-byte dtype needs an explicit '<' or '>' byte order)"
        ))),
    }
}

/// The dimensions of a `shape` tuple.
fn shape_of(value: Value) -> Result<Vec<usize>> {
    let Value::Tuple(items) = value else {
        return Err(malformed("'shape' is not a tuple".to_string()));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Int(d) => usize::try_from(d)
                .map_err(|_| malformed(format!("shape has an invalid dimension {d}"))),
            _ => Err(malformed(
                "'shape' holds something other than ints".to_string(),
            )),
        })
        .collect()
}

/// A Python literal as found in `.npy` headers.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(String, Value)>),
    None,
}

/// A recursive-descent parser for the Python-literal subset above, with a nesting bound.
struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    position: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            position: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.position..)?.chars().next()
    }

    /// Steps over the next character.
    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.position += c.len_utf8();
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, what: &str) -> Error {
        malformed(format!(
            "header is not a Python literal: {what} at byte {}",
            self.position
        ))
    }

    fn value(&mut self) -> Result<Value> {
        self.skip_whitespace();
        match self.peek() {
            Some('{') => self.dict().map(Value::Dict),
            Some('(') => self.sequence(')').map(Value::Tuple),
            Some('[') => self.sequence(']').map(Value::List),
            Some(quote @ ('\'' | '"')) => self.string(quote).map(Value::Str),
            Some(c) if c == '-' || c.is_ascii_digit() => self.int().map(Value::Int),
            Some(c) if c.is_ascii_alphabetic() => self.keyword(),
            Some(_) => Err(self.error("unexpected character")),
            None => Err(self.error("unexpected end")),
        }
    }

    fn dict(&mut self) -> Result<Vec<(String, Value)>> {
        self.enter()?;
        let result = self.dict_body('}');
        self.depth -= 1;
        result
    }

    /// Steps over an opening bracket, checking the nesting bound.
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error("nesting deeper than 16 levels"));
        }
        self.bump();
        Ok(())
    }

    fn dict_body(&mut self, close: char) -> Result<Vec<(String, Value)>> {
        let mut entries = Vec::new();
        loop {
            self.skip_whitespace();
            if self.eat(close) {
                return Ok(entries);
            }
            let Value::Str(key) = self.value()? else {
                return Err(self.error("a dict key that is not a string"));
            };
            self.skip_whitespace();
            if !self.eat(':') {
                return Err(self.error("missing ':'"));
            }
            entries.push((key, self.value()?));
            if !self.separator(close)? {
                return Ok(entries);
            }
        }
    }

    fn sequence(&mut self, close: char) -> Result<Vec<Value>> {
        self.enter()?;
        let result = self.sequence_body(close);
        self.depth -= 1;
        result
    }

    fn sequence_body(&mut self, close: char) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            if self.eat(close) {
                return Ok(items);
            }
            items.push(self.value()?);
            if !self.separator(close)? {
                return Ok(items);
            }
        }
    }

    /// After an item: `,` (more may follow: true) or the closing bracket (done: false).
    fn separator(&mut self, close: char) -> Result<bool> {
        self.skip_whitespace();
        if self.eat(',') {
            Ok(true)
        } else if self.eat(close) {
            Ok(false)
        } else {
            Err(self.error(&format!("expected ',' or '{close}'")))
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn string(&mut self, quote: char) -> Result<String> {
        self.bump();
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(c) if c == quote => {
                    self.bump();
                    return Ok(text);
                }
                Some('\\') => {
                    self.bump();
                    let escaped = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    text.push(escaped);
                    self.bump();
                }
                Some(c) => {
                    text.push(c);
                    self.bump();
                }
            }
        }
    }

    fn int(&mut self) -> Result<i64> {
        let negative = self.eat('-');
        let start = self.position;
        let mut value: i64 = 0;
        while let Some(digit) = self.peek().and_then(|c| c.to_digit(10)) {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit)))
                .ok_or_else(|| self.error("an integer too large for 64 bits"))?;
            self.bump();
        }
        if self.position == start {
            return Err(self.error("a '-' without digits"));
        }
        // Python 2 era NumPy wrote longs as `3L`.
        self.eat('L');
        Ok(if negative { -value } else { value })
    }

    fn keyword(&mut self) -> Result<Value> {
        let start = self.position;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.bump();
        }
        let word = self
            .text
            .get(start..self.position)
            .unwrap_or_default()
            .to_string();
        match word.as_str() {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::None),
            _ => {
                self.position = start;
                Err(self.error(&format!("unknown name '{word}'")))
            }
        }
    }
}

/// Reorders column-major (Fortran) data of `shape` into row-major order.
///
/// Element `(i0, .., ik)` sits at `i0 + d0 * (i1 + d1 * (i2 + ...))` in Fortran order; the
/// loop walks the row-major index like an odometer, keeping the Fortran offset in step.
fn fortran_to_row_major(
    values: &[f32],
    shape: &[usize],
    label: &dyn Fn() -> String,
) -> Result<Vec<f32>> {
    // Fortran strides; no overflow: their product is the validated element count.
    let strides: Vec<usize> = shape
        .iter()
        .scan(1usize, |stride, &d| {
            let current = *stride;
            *stride *= d;
            Some(current)
        })
        .collect();
    let mut out = try_with_capacity(values.len(), || {
        format!("{} transposed from Fortran order", label())
    })?;
    let mut index = vec![0usize; shape.len()];
    let mut source = 0usize;
    for _ in 0..values.len() {
        out.push(values[source]);
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            source += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            source -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
    Ok(out)
}

fn malformed(reason: String) -> Error {
    Error::MalformedFile {
        format: FORMAT,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<Header> {
        parse_header(text, "t.npy")
    }

    #[test]
    fn parses_what_numpy_writes() {
        let h =
            header("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }    \n").unwrap();
        assert_eq!(
            h,
            Header {
                kind: ElementKind::F32,
                endian: Endian::Little,
                fortran_order: false,
                shape: vec![3, 4]
            }
        );
        let scalar = header("{'descr': '>f8', 'fortran_order': True, 'shape': ()}").unwrap();
        assert_eq!(
            (scalar.kind, scalar.endian, scalar.shape.len()),
            (ElementKind::F64, Endian::Big, 0)
        );
        let one =
            header("{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": (5L,)}").unwrap();
        assert_eq!(one.shape, [5]);
    }

    #[test]
    fn refuses_bad_headers() {
        let object = header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }");
        assert!(
            matches!(&object, Err(Error::UnsupportedDtype { dtype, .. }) if dtype.contains("pickle"))
        );
        assert!(matches!(
            header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"),
            Err(Error::UnsupportedDtype { .. })
        ));
        assert!(matches!(
            header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"),
            Err(Error::UnsupportedDtype { .. })
        ));
        for bad in [
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (",
            "[1, 2]",
            "",
        ] {
            assert!(
                matches!(header(bad), Err(Error::MalformedFile { format: "npy", .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{{'descr': {}", "(".repeat(100_000));
        let err = header(&text).unwrap_err();
        assert!(err.to_string().contains("nesting deeper than 16"), "{err}");
    }

    #[test]
    fn fortran_order_is_transposed() {
        // np.asfortranarray(np.arange(6).reshape(2, 3)).ravel(order='K') == [0, 3, 1, 4, 2, 5]
        let fortran = [0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
        assert_eq!(
            fortran_to_row_major(&fortran, &[2, 3], &String::new).unwrap(),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        // 3-D: shape (2, 2, 2); element (i, j, k) = 4i + 2j + k sits at i + 2j + 4k.
        let mut stored = [0.0f32; 8];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..2 {
                    stored[i + 2 * j + 4 * k] = (4 * i + 2 * j + k) as f32;
                }
            }
        }
        let expected: Vec<f32> = (0..8).map(|v| v as f32).collect();
        assert_eq!(
            fortran_to_row_major(&stored, &[2, 2, 2], &String::new).unwrap(),
            expected
        );
        assert!(
            fortran_to_row_major(&[], &[0, 3], &String::new)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn written_header_is_aligned_and_parses() {
        for shape in [vec![], vec![7], vec![2, 3], vec![1, 2, 3, 4]] {
            let bytes = header_bytes(&shape);
            assert_eq!(bytes.len() % ALIGNMENT, 0);
            assert_eq!(bytes.last(), Some(&b'\n'));
            let text = std::str::from_utf8(&bytes[10..]).unwrap();
            assert_eq!(header(text).unwrap().shape, shape);
        }
    }
}
