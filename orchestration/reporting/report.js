// The language switch: the page's lang attribute shows one language, no reload, no server.
function switchLanguage() {
  document.documentElement.lang = document.documentElement.lang === "da" ? "en" : "da";
}
