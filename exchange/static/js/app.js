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
