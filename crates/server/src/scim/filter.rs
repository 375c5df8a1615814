//! The SCIM filter grammar (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2), parsed into a
//! small tree. Translating a tree into SQL is [`super::query`]'s, over an allow-list.
//!
//! Precedence, loosest first: `or`, `and`, `not`; parentheses group. Operators and the
//! keywords `and`, `or`, `not`, `true`, `false`, `null` are case-insensitive, as are
//! attribute names (kept lower-case here). An attribute may carry its schema URI
//! (`urn:ietf:params:scim:schemas:core:2.0:User:userName`). A value path
//! (`emails[type eq "work"]`) filters a multi-valued attribute's values; its inner
//! attributes are the values' sub-attributes.

use serde_json::Value;
use std::fmt;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// `[uri:]name[.sub]`, the name and sub-attribute lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URI, when the path names one (as written).
    pub uri: Option<String>,
    /// The attribute, lower-case.
    pub name: String,
    /// The sub-attribute, lower-case.
    pub sub: Option<String>,
}

impl AttrPath {
    /// `name` or `name.sub`, lower-case, without the URI.
    pub fn dotted(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.dotted())
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr op value`; the value is a JSON string, number, boolean or null.
    Compare(AttrPath, Op, Value),
    /// `attr pr`.
    Present(AttrPath),
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// It does not hold.
    Not(Box<Filter>),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths
    /// name the values' sub-attributes.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH operation's `path`: an attribute, or a value path with an optional
/// sub-attribute (`emails[type eq "work"].value`, `members[value eq "…"]`).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// An attribute, or a sub-attribute of a complex one.
    Attr(AttrPath),
    /// The values of `attr` that match `filter`, or their sub-attribute `sub`.
    Values {
        /// The multi-valued attribute.
        attr: AttrPath,
        /// Which of its values.
        filter: Filter,
        /// A sub-attribute of those values.
        sub: Option<String>,
    },
}

/// Why a filter or path does not parse: a message fit for the `detail` of a SCIM error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest filter accepted, in bytes, and the deepest nesting.
pub const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;

/// Parses a `filter` query parameter.
pub fn parse(input: &str) -> Result<Filter, ParseError> {
    let mut p = Parser::new(input)?;
    let filter = p.or(0)?;
    match p.peek() {
        None => Ok(filter),
        Some(t) => Err(ParseError(format!("unexpected {} at character {}", t.describe(), p.offset()))),
    }
}

/// Parses an attribute path alone (`sortBy`, `attributes`): `[uri:]name[.sub]`.
pub fn parse_attr(input: &str) -> Result<AttrPath, ParseError> {
    attr_path(input.trim())
}

/// Parses a PATCH operation's `path`.
pub fn parse_path(input: &str) -> Result<PatchPath, ParseError> {
    let mut p = Parser::new(input)?;
    let attr = match p.next() {
        Some(Token::Word(w)) => attr_path(&w)?,
        Some(t) => return Err(ParseError(format!("a path starts with an attribute name, not {}", t.describe()))),
        None => return Err(ParseError("the path is empty".into())),
    };
    let path = if p.eat(&Token::Open('[')) {
        if attr.sub.is_some() {
            return Err(ParseError(format!("{attr} has a sub-attribute; only an attribute can take a [filter]")));
        }
        let filter = p.or(1)?;
        p.expect(Token::Close(']'))?;
        let sub = match p.next() {
            Some(Token::Sub(s)) => Some(valid_name(&s)?.to_ascii_lowercase()),
            None => None,
            Some(t) => return Err(ParseError(format!("unexpected {} after the path's ]", t.describe()))),
        };
        PatchPath::Values { attr, filter, sub }
    } else {
        PatchPath::Attr(attr)
    };
    match p.peek() {
        None => Ok(path),
        Some(t) => Err(ParseError(format!("unexpected {} in the path at character {}", t.describe(), p.offset()))),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open(char),
    Close(char),
    /// A JSON string literal, decoded.
    Str(String),
    /// Anything else between spaces and brackets: a name, operator, keyword or number.
    Word(String),
    /// `.sub` right after a `]`.
    Sub(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Open(c) | Token::Close(c) => format!("'{c}'"),
            Token::Str(s) => format!("the string {s:?}"),
            Token::Word(w) => format!("'{w}'"),
            Token::Sub(s) => format!("'.{s}'"),
        }
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn new(input: &str) -> Result<Self, ParseError> {
        if input.len() > MAX_LEN {
            return Err(ParseError(format!("the filter is {} bytes long; at most {MAX_LEN} are accepted", input.len())));
        }
        Ok(Self { tokens: lex(input)?, pos: 0, len: input.len() })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(at, _)| *at + 1)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn eat(&mut self, want: &Token) -> bool {
        if self.peek() == Some(want) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, want: Token) -> Result<(), ParseError> {
        let at = self.offset();
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(ParseError(format!("expected {} at character {at}, found {}", want.describe(), t.describe()))),
            None => Err(ParseError(format!("expected {} at the end of the filter", want.describe()))),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut left = self.and(depth)?;
        while self.eat_keyword("or") {
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut left = self.unary(depth)?;
        while self.eat_keyword("and") {
            let right = self.unary(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, ParseError> {
        if depth > MAX_DEPTH {
            return Err(ParseError(format!("the filter nests deeper than {MAX_DEPTH} levels")));
        }
        // `not` is a keyword only before a parenthesis: an attribute may be called "not".
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case("not"))
            && matches!(self.tokens.get(self.pos + 1), Some((_, Token::Open('('))))
        {
            self.pos += 2;
            let inner = self.or(depth + 1)?;
            self.expect(Token::Close(')'))?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.eat(&Token::Open('(')) {
            let inner = self.or(depth + 1)?;
            self.expect(Token::Close(')'))?;
            return Ok(inner);
        }
        let at = self.offset();
        let attr = match self.next() {
            Some(Token::Word(w)) => attr_path(&w)?,
            Some(t) => return Err(ParseError(format!("expected an attribute name at character {at}, found {}", t.describe()))),
            None => return Err(ParseError("the filter ends where an expression should be".into())),
        };
        if self.eat(&Token::Open('[')) {
            if depth > 0 && self.inside_value_path() {
                return Err(ParseError("a value path cannot hold another value path".into()));
            }
            if attr.sub.is_some() {
                return Err(ParseError(format!("{attr} has a sub-attribute; only an attribute can take a [filter]")));
            }
            let inner = self.value_filter(depth + 1)?;
            self.expect(Token::Close(']'))?;
            // `emails[type eq "work"].value eq "x"`: a sub-attribute after the brackets,
            // compared like an attribute of the matching values.
            if let Some(Token::Sub(_)) = self.peek() {
                let Some(Token::Sub(sub)) = self.next() else { unreachable!() };
                let sub_path = AttrPath { uri: None, name: valid_name(&sub)?.to_ascii_lowercase(), sub: None };
                let cond = self.condition(sub_path)?;
                return Ok(Filter::ValuePath(attr, Box::new(Filter::And(Box::new(inner), Box::new(cond)))));
            }
            return Ok(Filter::ValuePath(attr, Box::new(inner)));
        }
        self.condition(attr)
    }

    fn inside_value_path(&self) -> bool {
        let mut open = 0i32;
        for (_, t) in &self.tokens[..self.pos.saturating_sub(1)] {
            match t {
                Token::Open('[') => open += 1,
                Token::Close(']') => open -= 1,
                _ => {}
            }
        }
        open > 0
    }

    fn value_filter(&mut self, depth: usize) -> Result<Filter, ParseError> {
        self.or(depth)
    }

    fn condition(&mut self, attr: AttrPath) -> Result<Filter, ParseError> {
        let at = self.offset();
        let op = match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("pr") => return Ok(Filter::Present(attr)),
            Some(Token::Word(w)) => {
                Op::parse(&w).ok_or_else(|| ParseError(format!("'{w}' at character {at} is not an operator (eq ne co sw ew gt ge lt le pr)")))?
            }
            Some(t) => return Err(ParseError(format!("expected an operator after {attr}, found {}", t.describe()))),
            None => return Err(ParseError(format!("expected an operator after {attr}"))),
        };
        let at = self.offset();
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match serde_json::from_str::<serde_json::Number>(&w) {
                    Ok(n) => Value::Number(n),
                    Err(_) => {
                        return Err(ParseError(format!(
                            "'{w}' at character {at} is not a value: quote strings (\"…\"), or use a number, true, false or null"
                        )));
                    }
                },
            },
            Some(t) => return Err(ParseError(format!("expected a value after {attr}, found {}", t.describe()))),
            None => return Err(ParseError(format!("expected a value after {attr}"))),
        };
        Ok(Filter::Compare(attr, op, value))
    }
}

fn lex(input: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let mut out = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' | b'[' => {
                out.push((i, Token::Open(c as char)));
                i += 1;
            }
            b')' => {
                out.push((i, Token::Close(')')));
                i += 1;
            }
            b']' => {
                out.push((i, Token::Close(']')));
                i += 1;
                if bytes.get(i) == Some(&b'.') {
                    let start = i + 1;
                    let end = word_end(bytes, start);
                    if end == start {
                        return Err(ParseError(format!("a sub-attribute name should follow the '.' at character {}", i + 1)));
                    }
                    out.push((i, Token::Sub(input[start..end].to_owned())));
                    i = end;
                }
            }
            b'"' => {
                // A JSON string: find its closing quote, honouring escapes, and decode it.
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(ParseError(format!("the string starting at character {} is not closed", start + 1))),
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                let literal = &input[start..=i];
                let s: String =
                    serde_json::from_str(literal).map_err(|_| ParseError(format!("the string starting at character {} is not valid", start + 1)))?;
                out.push((start, Token::Str(s)));
                i += 1;
            }
            _ => {
                let end = word_end(bytes, i);
                out.push((i, Token::Word(input[i..end].to_owned())));
                i = end;
            }
        }
    }
    Ok(out)
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'[' | b']' | b'"') {
        i += 1;
    }
    i
}

/// An attribute name: a letter, then letters, digits, `_`, `-` or `$` (RFC 7643 §2.1, with
/// `$ref`).
fn valid_name(name: &str) -> Result<&str, ParseError> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        _ => false,
    };
    if ok { Ok(name) } else { Err(ParseError(format!("'{name}' is not an attribute name"))) }
}

/// `[URI:]ATTRNAME[.subAttr]`. A URI is everything up to the last `:`.
fn attr_path(word: &str) -> Result<AttrPath, ParseError> {
    let (uri, rest) = match word.rfind(':') {
        Some(at) if word[..at].to_ascii_lowercase().starts_with("urn:") => (Some(word[..at].to_owned()), &word[at + 1..]),
        Some(_) => return Err(ParseError(format!("'{word}' is not an attribute path"))),
        None => (None, word),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let name = valid_name(name)?.to_ascii_lowercase();
    let sub = match sub {
        Some(s) => Some(valid_name(s)?.to_ascii_lowercase()),
        None => None,
    };
    Ok(AttrPath { uri, name, sub })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn a(name: &str) -> AttrPath {
        let (name, sub) = match name.split_once('.') {
            Some((n, s)) => (n.to_owned(), Some(s.to_owned())),
            None => (name.to_owned(), None),
        };
        AttrPath { uri: None, name, sub }
    }

    fn cmp(name: &str, op: Op, v: Value) -> Filter {
        Filter::Compare(a(name), op, v)
    }

    #[test]
    fn every_operator_and_value_kind_parses() {
        for (word, op) in [
            ("eq", Op::Eq),
            ("NE", Op::Ne),
            ("co", Op::Co),
            ("Sw", Op::Sw),
            ("ew", Op::Ew),
            ("gt", Op::Gt),
            ("ge", Op::Ge),
            ("lt", Op::Lt),
            ("le", Op::Le),
        ] {
            assert_eq!(parse(&format!("userName {word} \"bjensen\"")).unwrap(), cmp("username", op, json!("bjensen")));
        }
        assert_eq!(parse("active eq True").unwrap(), cmp("active", Op::Eq, json!(true)));
        assert_eq!(parse("active eq false").unwrap(), cmp("active", Op::Eq, json!(false)));
        assert_eq!(parse("title eq null").unwrap(), cmp("title", Op::Eq, Value::Null));
        assert_eq!(parse("x.count gt 12.5").unwrap(), cmp("x.count", Op::Gt, json!(12.5)));
        assert_eq!(parse("title pr").unwrap(), Filter::Present(a("title")));
        assert_eq!(parse(r#"displayName eq "A \"quoted\" name""#).unwrap(), cmp("displayname", Op::Eq, json!("A \"quoted\" name")));
    }

    #[test]
    fn not_binds_tightest_then_and_then_or() {
        let f = parse(r#"a eq "1" or b eq "2" and not (c eq "3")"#).unwrap();
        let want = Filter::Or(
            Box::new(cmp("a", Op::Eq, json!("1"))),
            Box::new(Filter::And(Box::new(cmp("b", Op::Eq, json!("2"))), Box::new(Filter::Not(Box::new(cmp("c", Op::Eq, json!("3"))))))),
        );
        assert_eq!(f, want);
        let grouped = parse(r#"(a eq "1" or b eq "2") and c pr"#).unwrap();
        assert!(matches!(grouped, Filter::And(l, _) if matches!(*l, Filter::Or(..))));
    }

    #[test]
    fn value_paths_and_schema_uris() {
        let f = parse(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap();
        let Filter::ValuePath(attr, inner) = f else { panic!("not a value path") };
        assert_eq!(attr, a("emails"));
        assert!(matches!(*inner, Filter::And(..)));
        let f = parse(r#"emails[type eq "work"].value eq "a@b.c""#).unwrap();
        assert!(matches!(f, Filter::ValuePath(ref attr, _) if attr.name == "emails"));
        let f = parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales""#).unwrap();
        let Filter::Compare(path, ..) = f else { panic!() };
        assert_eq!(path.uri.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(path.name, "department");
        let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "J""#).unwrap();
        assert!(matches!(f, Filter::Compare(ref p, Op::Sw, _) if p.dotted() == "name.givenname"));
        assert_eq!(parse(r#"meta.lastModified gt "2026-01-01T00:00:00Z""#).unwrap(), cmp("meta.lastmodified", Op::Gt, json!("2026-01-01T00:00:00Z")));
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        for (bad, says) in [
            ("", "ends where an expression"),
            ("userName", "expected an operator"),
            ("userName eq", "expected a value"),
            ("userName eq bjensen", "not a value"),
            ("userName is \"x\"", "not an operator"),
            ("userName eq \"x", "not closed"),
            ("(userName eq \"x\"", "expected ')'"),
            ("userName eq \"x\")", "unexpected ')'"),
            ("userName eq \"x\" and", "ends where"),
            ("emails[type eq \"work\"", "expected ']'"),
            ("emails[type[x eq 1]]", "another value path"),
            ("1abc eq \"x\"", "not an attribute name"),
            ("a:b eq 1", "not an attribute path"),
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.0.contains(says), "{bad:?}: {err}");
        }
        let deep = format!("{}a pr{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().0.contains("nests deeper"));
        assert!(parse(&"a".repeat(MAX_LEN + 1)).unwrap_err().0.contains("at most"));
    }

    #[test]
    fn patch_paths() {
        assert_eq!(parse_path("active").unwrap(), PatchPath::Attr(a("active")));
        assert_eq!(parse_path("name.familyName").unwrap(), PatchPath::Attr(a("name.familyname")));
        let PatchPath::Values { attr, filter, sub } = parse_path(r#"emails[type eq "work"].value"#).unwrap() else { panic!() };
        assert_eq!((attr, sub), (a("emails"), Some("value".to_owned())));
        assert_eq!(filter, cmp("type", Op::Eq, json!("work")));
        let PatchPath::Values { attr, sub, .. } = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap() else {
            panic!()
        };
        assert_eq!((attr.name.as_str(), sub), ("members", None));
        let ext = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber").unwrap();
        assert!(matches!(ext, PatchPath::Attr(ref p) if p.name == "employeenumber" && p.uri.is_some()));
        for bad in ["", "emails[", "emails[type eq \"work\"]x", "name.givenName[type eq \"x\"]", "a b"] {
            assert!(parse_path(bad).is_err(), "{bad:?}");
        }
    }
}
