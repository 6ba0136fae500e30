//! 工作综述: the annual work summary, written from the records. Every module
//! declares its paragraphs (`platform::summary::Paragraph`); this crate
//! writes them for an org subtree and a year, saves the result as a draft
//! people edit in the browser with the figures kept bound to their
//! indicators, sends it up the review chain, freezes the final version, and
//! puts it out as a page, Markdown and .docx.

pub mod render;
