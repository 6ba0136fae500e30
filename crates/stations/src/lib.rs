pub mod geo;
