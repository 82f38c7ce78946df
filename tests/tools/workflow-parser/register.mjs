// Usage: node --import ./register.mjs validate.mjs <workflow files…>
import { register } from "node:module";

register("./json-hook.mjs", import.meta.url);
