// Small behaviours without inline scripts (the Content-Security-Policy forbids them).
document.addEventListener("click", function (event) {
  const target = event.target.closest("[data-confirm]");
  if (target && !window.confirm(target.dataset.confirm)) {
    event.preventDefault();
  }
});

// The IAM user search box (memberships.forms.IAMUserSearchInput): htmx fills the list under the input
// with suggestions; the one clicked goes into the input, replacing the name being typed.
document.addEventListener("click", function (event) {
  const choice = event.target.closest("[data-suggestion]");
  if (!choice) {
    return;
  }
  const list = choice.closest(".suggestions");
  const input = list && document.querySelector('[data-suggestions="' + list.id + '"]');
  if (!input) {
    return;
  }
  if (input.dataset.multiple) {
    const names = input.value.split(/[\s,]+/).filter(Boolean);
    if (names.length && !/[\s,]$/.test(input.value)) {
      names.pop();
    }
    names.push(choice.dataset.suggestion);
    input.value = names.join(", ") + ", ";
  } else {
    input.value = choice.dataset.suggestion;
  }
  list.replaceChildren();
  input.focus();
});
