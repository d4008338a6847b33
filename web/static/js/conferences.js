// hoinghi: the conference editor's materials upload. The file is the request body itself, sent
// to the streamed materials API with the CSRF token in a header (the server never parses the
// body to find it); title, number, date and access travel in the query string.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  function showErrors(form, fields) {
    form.querySelectorAll("[data-error-for]").forEach(function (slot) {
      var name = slot.getAttribute("data-error-for");
      slot.textContent = (fields && fields[name]) || "";
      if (fields && fields[name]) { slot.setAttribute("role", "alert"); } else { slot.removeAttribute("role"); }
    });
  }

  function setup(form) {
    var input = form.querySelector("[data-file]");
    var zone = form.querySelector("[data-dropzone]");
    var nameSlot = form.querySelector("[data-file-name]");
    var status = form.querySelector("[data-upload-status]");
    var progress = form.querySelector("[data-progress]");
    var chosen = null;

    function choose(file) {
      chosen = file || null;
      nameSlot.textContent = chosen ? chosen.name + " (" + Math.ceil(chosen.size / 1024) + " KB)" : "";
      var title = form.querySelector('[name="title"]');
      if (chosen && title && !title.value) { title.value = chosen.name.replace(/\.[^.]+$/, ""); }
    }
    input.addEventListener("change", function () { choose(input.files[0]); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) { choose(event.dataTransfer.files[0]); }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      showErrors(form, {});
      status.className = "upload-status";
      if (!chosen) { status.textContent = status.dataset.noFile; status.classList.add("error"); return; }
      var params = new URLSearchParams();
      ["title", "kind", "access", "official_number", "official_date"].forEach(function (name) {
        var field = form.querySelector('[name="' + name + '"]');
        // the title always goes, even empty: the server then says "Tên tài liệu không được để trống."
        if (field && (field.value || name === "title")) { params.set(name, field.value); }
      });
      params.set("filename", chosen.name);
      var request = new XMLHttpRequest();
      request.open("POST", form.dataset.upload + "?" + params.toString());
      request.setRequestHeader("X-CSRFToken", csrf);
      request.setRequestHeader("Content-Type", chosen.type || "application/octet-stream");
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (progressEvent) {
        if (progressEvent.lengthComputable) { progress.value = Math.round(100 * progressEvent.loaded / progressEvent.total); }
      });
      request.onload = function () {
        progress.hidden = true;
        var answer = {};
        try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = {}; }
        if (request.status >= 200 && request.status < 300) {
          status.textContent = status.dataset.done;
          status.classList.add("ok");
          form.reset();
          choose(null);
          document.body.dispatchEvent(new CustomEvent("materials-changed"));
        } else {
          status.textContent = answer.error || status.dataset.failed;
          status.classList.add("error");
          showErrors(form, answer.fields || {});
        }
      };
      request.onerror = function () {
        progress.hidden = true;
        status.textContent = status.dataset.failed;
        status.classList.add("error");
      };
      progress.hidden = false;
      progress.value = 0;
      status.textContent = status.dataset.sending;
      request.send(chosen);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(setup);
  });
})();
