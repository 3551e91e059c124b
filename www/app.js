document.getElementById("clock").insertAdjacentText("beforeend", " (page loaded " + new Date().toLocaleTimeString() + ")");
