//! The timeline as one self-contained HTML page: the SVG inline, with inline CSS and a few lines
//! of inline JavaScript that show a mark's details (times, request id, justification, approver,
//! reason) beside the pointer. Nothing is fetched: no script, font or style from anywhere.

use super::Timeline;
use super::svg::{self, escape};

const STYLE: &str = "body{margin:16px;font-family:sans-serif;background:#ffffff;color:#222222}\n\
.mark{cursor:pointer}\n.mark:hover{opacity:.75}\n\
#tip{position:fixed;display:none;max-width:460px;padding:6px 8px;background:#ffffe0;\
border:1px solid #888888;font-size:12px;white-space:pre-wrap;pointer-events:none}\n";

/// Shows a mark's `data-tip` beside the pointer; `<title>`s are taken out so the browser's own
/// tooltip does not show the same words twice.
const SCRIPT: &str = "(function(){\n\
var tip=document.getElementById('tip');\n\
document.querySelectorAll('.mark').forEach(function(m){\n\
m.querySelectorAll('title').forEach(function(t){t.remove();});\n\
m.addEventListener('mousemove',function(e){tip.textContent=m.getAttribute('data-tip');\
tip.style.display='block';tip.style.left=(e.clientX+14)+'px';tip.style.top=(e.clientY+14)+'px';});\n\
m.addEventListener('mouseleave',function(){tip.style.display='none';});\n\
});\n})();\n";

pub fn write(t: &Timeline) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n{}<div id=\"tip\"></div>\n<script>\n{SCRIPT}</script>\n\
         </body>\n</html>\n",
        escape(&format!("pimlab timeline: {}", t.about)),
        svg::write(t)
    )
}
