//! The KV namespace as the cache uses it: text by key, written with a time to live, deleted.
//! Called as the runtime's own object (the `worker` crate's KV builders pass their options
//! through a serde layer, whose code this Worker otherwise does without).

use crate::port::settled::Settle;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A KV namespace binding.
#[derive(Clone)]
pub struct Kv(JsValue);

impl Kv {
    /// The namespace bound to `name`, if there is one.
    pub fn bound(env: &worker::Env, name: &str) -> Option<Kv> {
        let binding = Reflect::get(env.as_ref(), &JsValue::from_str(name)).ok()?;
        let has_get =
            Reflect::get(&binding, &JsValue::from_str("get")).is_ok_and(|f| f.is_function());
        has_get.then_some(Kv(binding))
    }

    async fn call(&self, method: &str, args: Array) -> Result<JsValue, String> {
        let function: Function = Reflect::get(&self.0, &JsValue::from_str(method))
            .map_err(|e| super::js_message(&e))?
            .dyn_into()
            .map_err(|e| super::js_message(&e))?;
        let promise: Promise = function
            .apply(&self.0, &args)
            .map_err(|e| super::js_message(&e))?
            .dyn_into()
            .map_err(|e| super::js_message(&e))?;
        JsFuture::from(promise)
            .await
            .map_err(|e| super::js_message(&e))
    }

    /// The text under `key`, if any.
    pub async fn text(&self, key: &str) -> Result<Option<String>, String> {
        let args = Array::of2(&JsValue::from_str(key), &JsValue::from_str("text"));
        Ok(self.call("get", args).settle().await?.as_string())
    }

    /// Writes `value` under `key`, kept `ttl_seconds`.
    pub async fn put(&self, key: &str, value: &str, ttl_seconds: u64) -> Result<(), String> {
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("expirationTtl"),
            &JsValue::from_f64(ttl_seconds as f64),
        )
        .map_err(|e| super::js_message(&e))?;
        let args = Array::of3(&JsValue::from_str(key), &JsValue::from_str(value), &options);
        self.call("put", args).settle().await.map(|_| ())
    }

    /// Deletes `key`.
    pub async fn delete(&self, key: &str) -> Result<(), String> {
        let args = Array::of1(&JsValue::from_str(key));
        self.call("delete", args).settle().await.map(|_| ())
    }
}
