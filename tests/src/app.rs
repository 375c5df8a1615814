//! The app under WebDriver: launch it, find things by `data-testid`, and wait by
//! polling (never by sleeping) up to the configured overall timeout.

use crate::config::Config;
use anyhow::{Context, Result, anyhow, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Interval between polls.
const POLL: Duration = Duration::from_millis(150);

/// One row of the users table, as rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub email: String,
    pub text: String,
}

/// A WebDriver session on a freshly launched app.
#[derive(Clone)]
pub struct App {
    pub client: Client,
    pub timeout: Duration,
    closed: Arc<AtomicBool>,
}

fn css_testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl App {
    /// Launches the app through tauri-driver (which starts it with its own environment).
    pub async fn launch(cfg: &Config) -> Result<Self> {
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({ "application": cfg.app }));
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&cfg.webdriver)
            .await
            .with_context(|| format!("starting a WebDriver session at {}", cfg.webdriver))?;
        Ok(Self { client, timeout: cfg.timeout, closed: Arc::default() })
    }

    /// Polls `check` until it yields a value; errors count as "not yet" but the last one
    /// is reported if time runs out.
    pub async fn poll<T, F, Fut>(&self, what: &str, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let start = Instant::now();
        let mut last_err = None;
        crate::log(&format!("waiting for {what}"));
        loop {
            // A WebDriver call that never answers must not hang the suite.
            let left = self.timeout.saturating_sub(start.elapsed()).max(POLL);
            match tokio::time::timeout(left, check()).await {
                Ok(Ok(Some(v))) => return Ok(v),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => last_err = Some(e),
                Err(_) => last_err = Some(anyhow!("a WebDriver call did not answer")),
            }
            if start.elapsed() > self.timeout {
                let why = last_err.map(|e| format!(" (last error: {e:#})")).unwrap_or_default();
                bail!("timed out after {:?} waiting for {what}{why}", self.timeout);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the element with this test id is rendered (has a box, not hidden) and
    /// its rendered text. Judged in the page: WebKitWebDriver's "is displayed" answers
    /// false for some visible elements (e.g. a flex item with `overflow: hidden`).
    pub async fn probe(&self, id: &str) -> Result<Option<(bool, String)>> {
        let script = r#"const el = document.querySelector(arguments[0]);
            if (!el) return null;
            const st = getComputedStyle(el);
            const shown = el.getClientRects().length > 0 && st.visibility !== 'hidden'
                && st.display !== 'none' && !el.closest('[hidden]');
            return [shown, el.innerText || el.value || ''];"#;
        let v = self.call("execute", self.client.execute(script, vec![json!(css_testid(id))])).await?;
        Ok(match v {
            Value::Array(a) => {
                Some((a.first().and_then(Value::as_bool).unwrap_or(false), a.get(1).and_then(Value::as_str).unwrap_or_default().to_owned()))
            }
            _ => None,
        })
    }

    /// The element with this test id, if it is present and rendered.
    pub async fn visible(&self, id: &str) -> Result<Option<Element>> {
        match self.probe(id).await? {
            Some((true, _)) => Ok(Some(self.call("find", self.client.find(Locator::Css(&css_testid(id)))).await?)),
            _ => Ok(None),
        }
    }

    /// One WebDriver call, bounded by the timeout (a wedged driver must not hang us).
    pub async fn call<T, E>(&self, what: &str, fut: impl Future<Output = Result<T, E>>) -> Result<T>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => Ok(r?),
            Err(_) => bail!("WebDriver {what} did not answer within {:?}", self.timeout),
        }
    }

    /// Waits until the element with this test id is displayed.
    pub async fn wait_visible(&self, id: &str) -> Result<Element> {
        self.poll(&format!("[{id}] to be visible"), || self.visible(id)).await
    }

    /// Waits until the element is rendered and its text satisfies `pred`; returns the text.
    pub async fn wait_text(&self, id: &str, what: &str, pred: impl Fn(&str) -> bool) -> Result<String> {
        self.poll(&format!("[{id}] to show {what}"), || async {
            Ok(match self.probe(id).await? {
                Some((true, text)) if pred(&text) => Some(text),
                _ => None,
            })
        })
        .await
    }

    /// Replaces the value of an input (and checks it took).
    pub async fn fill(&self, id: &str, value: &str) -> Result<()> {
        let el = self.wait_visible(id).await?;
        self.call("clear", el.clear()).await?;
        // WebKitWebDriver refuses an empty text ("Missing text parameter"); clearing is all.
        if !value.is_empty() {
            self.call("send keys", el.send_keys(value)).await?;
        }
        let now = self.call("value", el.prop("value")).await?.unwrap_or_default();
        if now != value {
            bail!("[{id}] holds {now:?} after typing {value:?}");
        }
        Ok(())
    }

    /// Puts `text` into the input or text area with this test id as a paste would: one
    /// `input` event with the whole text. (WebKitWebDriver drops new lines from typed keys.)
    pub async fn paste(&self, id: &str, text: &str) -> Result<()> {
        self.wait_visible(id).await?;
        let script = "const el = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); \
                      el.focus(); el.value = arguments[1]; \
                      el.dispatchEvent(new Event('input', { bubbles: true })); \
                      el.dispatchEvent(new Event('change', { bubbles: true })); return el.value;";
        let now = self.call("execute", self.client.execute(script, vec![json!(id), json!(text)])).await?;
        if now.as_str() != Some(text) {
            bail!("[{id}] holds {now} after pasting {text:?}");
        }
        Ok(())
    }

    /// Clicks the element with this test id once it is displayed.
    pub async fn click(&self, id: &str) -> Result<()> {
        let el = self.wait_visible(id).await?;
        self.call("click", el.click()).await
    }

    /// The number a count badge shows now (`count-all` → its child `count-all-value`).
    pub async fn count(&self, badge: &str) -> Result<u32> {
        let id = format!("{badge}-value");
        let text = match self.probe(&id).await? {
            Some((true, text)) => text,
            _ => bail!("[{id}] is not visible"),
        };
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        digits.parse().with_context(|| format!("[{id}] shows {text:?}, not a number"))
    }

    /// The rendered rows of the users table (one script call, not one per row).
    pub async fn rows(&self) -> Result<Vec<Row>> {
        let script = r#"return Array.from(document.querySelectorAll('[data-testid="user-row"]'))
            .map(r => [r.getAttribute('data-user-id') || '', r.getAttribute('data-email') || '',
                       r.textContent || '']);"#;
        let value = self.call("execute", self.client.execute(script, vec![])).await?;
        let rows = value.as_array().ok_or_else(|| anyhow!("rows script returned {value}"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let s = |i: usize| r.get(i).and_then(Value::as_str).unwrap_or_default().to_owned();
                Row { id: s(0), email: s(1), text: s(2) }
            })
            .collect())
    }

    /// The value of `attr` on the element matching the CSS selector `css`, if one is
    /// present.
    pub async fn attr(&self, css: &str, attr: &str) -> Result<Option<String>> {
        let script = "const el = document.querySelector(arguments[0]); \
                      return el ? el.getAttribute(arguments[1]) : null;";
        let v = self.call("execute", self.client.execute(script, vec![json!(css), json!(attr)])).await?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// Types `keys` into whatever has focus, as a person at the keyboard would: WebDriver
    /// key codes (`\u{E009}` Control, `\u{E015}` ArrowDown, `\u{E007}` Enter) press and
    /// release like keys, a modifier held until the end of `keys`.
    pub async fn keys(&self, keys: &str) -> Result<()> {
        let focused = self.call("active element", self.client.active_element()).await?;
        self.call("send keys", focused.send_keys(keys)).await
    }

    /// The `data-testid` of the focused element ("" if it has none).
    pub async fn focused_testid(&self) -> Result<String> {
        let v = self.call("execute", self.client.execute("return document.activeElement?.getAttribute('data-testid') ?? '';", vec![])).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Attributes `a` and `b` of every element matching `css` (one script call).
    pub async fn attr_pairs(&self, css: &str, a: &str, b: &str) -> Result<Vec<(String, String)>> {
        let script = "return Array.from(document.querySelectorAll(arguments[0])) \
                      .map(el => [el.getAttribute(arguments[1]) || '', el.getAttribute(arguments[2]) || '']);";
        let v = self.call("execute", self.client.execute(script, vec![json!(css), json!(a), json!(b)])).await?;
        Ok(serde_json::from_value(v)?)
    }

    /// The text of the first element matching `css`, if one is rendered.
    pub async fn text_of(&self, css: &str) -> Result<Option<String>> {
        let script = "const el = document.querySelector(arguments[0]); return el ? el.textContent : null;";
        let v = self.call("execute", self.client.execute(script, vec![json!(css)])).await?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// The CSS selector of the users table's row for this user.
    pub fn row_css(user_id: &str) -> String {
        format!("[data-testid=\"user-row\"][data-user-id=\"{user_id}\"]")
    }

    /// The pending mark on a user's row ("" for none), if the row is rendered.
    pub async fn row_local_state(&self, user_id: &str) -> Result<Option<String>> {
        self.attr(&Self::row_css(user_id), "data-local-state").await
    }

    /// Opens a user by clicking its row, once it is rendered.
    pub async fn open_row(&self, user_id: &str) -> Result<()> {
        self.click_css(&Self::row_css(user_id)).await
    }

    /// Clicks the first element matching the CSS selector `css`, once one is rendered.
    pub async fn click_css(&self, css: &str) -> Result<()> {
        let el = self
            .poll(&format!("an element matching {css}"), || async {
                Ok(self.call("find", self.client.find_all(Locator::Css(css))).await?.into_iter().next())
            })
            .await?;
        self.call("click", el.click()).await
    }

    /// Picks the option with this value in the `<select>` with this test id, as a person
    /// choosing it would: the value changes and a `change` event fires. (A native select's
    /// pop-up is outside the page, so WebDriver cannot click its options reliably.)
    pub async fn select(&self, id: &str, value: &str) -> Result<()> {
        self.wait_visible(id).await?;
        let script = "const el = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); \
                      if (![...el.options].some(o => o.value === arguments[1])) return false; \
                      el.value = arguments[1]; el.dispatchEvent(new Event('change', { bubbles: true })); return true;";
        let found = self.call("execute", self.client.execute(script, vec![json!(id), json!(value)])).await?;
        if found != Value::Bool(true) {
            bail!("[{id}] has no option {value:?}");
        }
        Ok(())
    }

    /// Waits for the first screen: the sign-in form, or the users page of a session
    /// left over by an earlier failed test, which is then signed out.
    pub async fn wait_signed_out(&self) -> Result<()> {
        let page = self
            .poll("the sign-in form or the users page", || async {
                if self.visible("signin-form").await?.is_some() {
                    return Ok(Some("signin"));
                }
                Ok(self.visible("users-page").await?.map(|_| "users"))
            })
            .await?;
        if page == "users" {
            self.sign_out().await?;
            self.wait_visible("signin-form").await?;
        }
        Ok(())
    }

    /// Signs out through the sign-out dialog with what it proposes: this computer's copy
    /// removed and queued changes (if any) kept. Does not wait for the sign-in form.
    pub async fn sign_out(&self) -> Result<()> {
        self.click("signout-button").await?;
        self.wait_visible("signout-dialog").await?;
        let confirm = if self.visible("signout-keep").await?.is_some() { "signout-keep" } else { "signout-confirm" };
        self.click(confirm).await
    }

    /// Fills the sign-in form and submits it.
    pub async fn submit_signin(&self, server_url: &str, email: &str, password: &str) -> Result<()> {
        self.wait_visible("signin-form").await?;
        self.fill("signin-server-url", server_url).await?;
        self.fill("signin-email", email).await?;
        self.fill("signin-password", password).await?;
        self.click("signin-submit").await
    }

    /// Saves a screenshot and the page source, to see what a failed test saw.
    pub async fn save_artifacts(&self, dir: &Path, name: &str) {
        let safe: String = name.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
        if let Ok(png) = self.call("screenshot", self.client.screenshot()).await {
            let _ = std::fs::write(dir.join(format!("{safe}.png")), png);
        }
        if let Ok(html) = self.call("source", self.client.source()).await {
            let _ = std::fs::write(dir.join(format!("{safe}.html")), html);
        }
        crate::log(&format!("what {name} saw is saved in {}", dir.display()));
    }

    /// Ends the session, which quits the app; later calls do nothing.
    pub async fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.call("close", self.client.clone().close()).await {
            crate::log(&format!("closing the WebDriver session failed: {e:#}"));
        }
    }
}
