//! `gpusum selftest --junit FILE`: the run as JUnit XML, which every CI system's test reporter
//! reads. One test suite per target, one test case per case; gpusum's, wgpu's and the driver's
//! versions as properties.

use std::fmt::Write as _;

use gpusum::selftest::{SelftestReport, TargetReport};

/// The report as JUnit XML.
pub fn render(report: &SelftestReport, wgpu_version: &str) -> String {
    let failures: usize = report.targets.iter().map(|t| t.failures.len()).sum();
    let errors = report.targets.iter().filter(|t| t.error.is_some()).count();
    let tests: usize = report.targets.iter().map(|t| t.cases_run.max(1)).sum();
    let seconds: f64 = report.targets.iter().map(|t| t.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"gpusum selftest\" tests=\"{tests}\" failures=\"{failures}\" \
         errors=\"{errors}\" time=\"{seconds:.6}\">"
    );
    for target in &report.targets {
        suite(&mut xml, report, target, wgpu_version);
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn suite(xml: &mut String, report: &SelftestReport, target: &TargetReport, wgpu_version: &str) {
    let name = match target.workgroup_size {
        Some(size) => format!("{}, workgroups of {size}", target.label()),
        None => target.label(),
    };
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.6}\">",
        escape(&name),
        target.cases_run.max(1),
        target.failures.len(),
        usize::from(target.error.is_some()),
        target.seconds
    );
    xml.push_str("    <properties>\n");
    let properties = [
        (
            "gpusum_version",
            Some(gpusum::json::GPUSUM_VERSION.to_owned()),
        ),
        ("wgpu_version", Some(wgpu_version.to_owned())),
        ("seed", Some(report.seed.to_string())),
        ("adapter", target.adapter.clone()),
        ("driver", target.driver.clone()),
    ];
    for (key, value) in properties {
        if let Some(value) = value {
            let _ = writeln!(
                xml,
                "      <property name=\"{key}\" value=\"{}\"/>",
                escape(&value)
            );
        }
    }
    xml.push_str("    </properties>\n");
    let class = escape(&format!("gpusum.selftest.{name}"));
    if let Some(error) = &target.error {
        let _ = writeln!(
            xml,
            "    <testcase name=\"could not run\" classname=\"{class}\" time=\"0\">\n      \
             <error message=\"{}\"/>\n    </testcase>",
            escape(error)
        );
    }
    for (case, seconds) in &target.case_seconds {
        let _ = write!(
            xml,
            "    <testcase name=\"{}\" classname=\"{class}\" time=\"{seconds:.6}\"",
            escape(case)
        );
        match target.failures.iter().find(|f| &f.case == case) {
            None => xml.push_str("/>\n"),
            Some(failure) => {
                let message = format!(
                    "{}: expected {}, cpu {}, observed {}",
                    failure.input, failure.expected, failure.cpu, failure.observed
                );
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{}\"/>\n    </testcase>",
                    escape(&message)
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n");
}

/// Text as an XML attribute value.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c if c.is_control() => format!("&#{};", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn attribute_text_is_escaped() {
        assert_eq!(super::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
