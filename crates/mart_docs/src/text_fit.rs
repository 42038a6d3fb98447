//! Fitting names into boxes without a browser: an estimate of how wide a text is drawn,
//! and names shortened in the middle to a width.

/// A generous estimate of the width of `text` in a sans-serif font of `px` pixels (the
/// widest of the fonts the stylesheet names), so an estimated fit really fits.
pub(crate) fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| {
            let em = match c {
                'i' | 'j' | 'l' | '.' | ',' | '\'' | '!' | '|' | ':' | ';' | ' ' => 0.30,
                'f' | 'r' | 't' | '(' | ')' | '-' => 0.42,
                'm' | 'w' => 0.98,
                'M' | 'W' => 1.0,
                'A'..='Z' => 0.72,
                '0'..='9' | 'a'..='z' | '_' => 0.62,
                c if c.is_ascii() => 0.65,
                // Hangul, CJK ideographs, kana and full-width forms take a full em.
                '\u{1100}'..='\u{11FF}'
                | '\u{2E80}'..='\u{9FFF}'
                | '\u{AC00}'..='\u{D7AF}'
                | '\u{F900}'..='\u{FAFF}'
                | '\u{FF00}'..='\u{FFEF}' => 1.0,
                _ => 0.7,
            };
            em * px
        })
        .sum()
}

/// `text`, or as much of its start and end as fits `room` pixels with `…` between: names
/// of one project often share a prefix and differ at the end.
pub(crate) fn fit(text: &str, room: f64, px: f64) -> String {
    if text_width(text, px) <= room {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let budget = room - text_width("…", px);
    let (mut head, mut tail) = (0, 0);
    let mut used = 0.0;
    // Take from the start and the end in turn, two from the start for one from the end.
    loop {
        let from_start = head <= 2 * tail;
        let next = if from_start {
            chars[head]
        } else {
            chars[chars.len() - 1 - tail]
        };
        let w = text_width(&next.to_string(), px);
        if head + tail + 1 >= chars.len() || used + w > budget {
            break;
        }
        used += w;
        if from_start {
            head += 1;
        } else {
            tail += 1;
        }
    }
    let mut cut: String = chars[..head].iter().collect();
    cut.push('…');
    cut.extend(&chars[chars.len() - tail..]);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangul_counts_as_wide() {
        assert_eq!(fit("라이브시작일", 60.0, 12.0), "라이브…일");
        assert_eq!(fit("date_id", 80.0, 12.0), "date_id");
    }
}
