// Progressive enhancements only: every page works without this script.
document.addEventListener("DOMContentLoaded", () => {
  // Show only the districts of the chosen region.
  const region = document.querySelector("select[name=region]#region");
  const district = document.querySelector("select#district");
  if (region && district) {
    const filter = () => {
      const label = region.options[region.selectedIndex]?.text;
      for (const group of district.querySelectorAll("optgroup")) {
        const show = !region.value || group.label === label;
        group.hidden = !show;
        group.disabled = !show;
      }
      const chosen = district.options[district.selectedIndex];
      if (chosen && chosen.parentElement.disabled) district.value = "";
    };
    region.addEventListener("change", filter);
    filter();
  }
  // Reason templates fill the reason box they name; the reviewer can still edit the text.
  for (const picker of document.querySelectorAll("select[data-fills]")) {
    picker.addEventListener("change", () => {
      const target = document.getElementById(picker.dataset.fills);
      if (target && picker.value) {
        target.value = picker.value;
        target.dispatchEvent(new Event("input"));
        target.focus();
      }
    });
  }
  // Suggestions as the user types: debounced, shown in a <datalist> (keyboard-navigable by the browser).
  const box = document.querySelector("input[data-suggest]");
  if (box) {
    const list = document.getElementById(box.getAttribute("list"));
    let timer = null;
    let asked = "";
    box.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const typed = box.value.trim();
        if (!typed || typed === asked) return;
        asked = typed;
        try {
          const response = await fetch(`${box.dataset.suggest}?q=${encodeURIComponent(typed)}`, {headers: {Accept: "application/json"}});
          if (!response.ok) return;
          const {suggestions} = await response.json();
          list.replaceChildren(...suggestions.map((word) => Object.assign(document.createElement("option"), {value: word})));
        } catch (error) { /* suggestions are a convenience; the search itself still works */ }
      }, 200);
    });
  }
  // Live character counts for fields that declare their limit.
  for (const field of document.querySelectorAll("[data-count]")) {
    const limit = Number(field.dataset.count);
    const counter = document.createElement("span");
    counter.className = "char-count";
    counter.setAttribute("aria-live", "polite");
    const update = () => { counter.textContent = `${field.value.length} / ${limit}`; };
    field.insertAdjacentElement("afterend", counter);
    field.addEventListener("input", update);
    update();
  }
});
