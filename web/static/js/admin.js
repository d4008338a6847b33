// hoinghi administration pages: the one behaviour htmx does not give. No inline scripts (CSP).
(function () {
  "use strict";
  // <select data-autosubmit>: choosing a value submits its form (the unit picker, filters).
  document.addEventListener("change", function (event) {
    var target = event.target.closest("[data-autosubmit]");
    if (target && target.form) { target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit(); }
  });
})();
