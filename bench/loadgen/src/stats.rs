//! Percentiles and the JSON line each run prints.

/// The `p`-th percentile (0..=100) of `sorted` (nearest-rank).
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A JSON object written field by field (numbers only, plus a name).
pub struct Report {
    fields: Vec<(String, String)>,
}

impl Report {
    pub fn new(kind: &str) -> Self {
        Report {
            fields: vec![("kind".into(), format!("\"{kind}\""))],
        }
    }

    pub fn num(mut self, key: &str, value: f64) -> Self {
        let v = if value.is_finite() {
            format!("{value:.3}")
        } else {
            "null".into()
        };
        self.fields.push((key.into(), v));
        self
    }

    pub fn line(&self) -> String {
        let body: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn report_is_json() {
        let line = Report::new("fanout")
            .num("p50_ms", 1.5)
            .num("bad", f64::NAN)
            .line();
        assert_eq!(line, r#"{"kind":"fanout","p50_ms":1.500,"bad":null}"#);
    }
}
